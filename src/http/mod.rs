//! Everything actix-web: routes, middleware, errors, TLS, the embedded front-end, OpenAPI.
//! Handlers parse input, call one engine/store function and map the result to a view.

pub mod admin;
pub mod agents;
pub mod assets;
pub mod attachments;
pub mod audit_api;
pub mod auth;
pub mod caller;
pub mod canned;
pub mod channel_api;
pub mod contacts;
pub mod conversations;
pub mod deliveries;
pub mod error;
pub mod health;
pub mod inboxes;
pub mod me;
pub mod middleware;
pub mod openapi;
pub mod roles;
pub mod scoped;
pub mod tls;
pub mod views;
pub mod webhooks;
pub mod wechat_admin;
pub mod wechat_hook;
pub mod widget;
pub mod widget_visits;
pub mod widget_ws;
pub mod ws;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};

use crate::app::AppState;

/// Extra routes a caller adds (tests mount probes here; production passes `None`).
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

/// The routes every Atrium server has.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Channel hooks first: they carry the inbound load, and actix matches routes in order.
    cfg.service(channel_api::inbound)
        .service(channel_api::conversation)
        .service(channel_api::identify)
        .service(channel_api::csat)
        .service(widget::config)
        .service(widget::session)
        .service(widget::poll)
        .service(widget::send)
        .service(widget::rate)
        .service(widget::typing)
        .service(widget::receipt)
        .service(widget::send_file)
        .service(widget::prechat)
        .service(widget::leave_message)
        .service(widget::file)
        .service(widget_ws::connect)
        .service(widget_visits::record)
        .service(widget::frame)
        .service(wechat_hook::verify)
        .service(wechat_hook::receive)
        .service(wechat_hook::verify_wecom)
        .service(wechat_hook::receive_wecom)
        .service(channel_api::upload)
        .service(channel_api::download)
        .service(deliveries::failed)
        .service(deliveries::resend)
        .service(webhooks::list)
        .service(webhooks::create)
        .service(webhooks::update)
        .service(webhooks::remove)
        .service(webhooks::rotate_secret)
        .service(webhooks::events)
        .service(webhooks::resend)
        .service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(openapi::openapi_json)
        .service(auth::login)
        .service(auth::session)
        .service(auth::logout)
        .service(admin::setup_info)
        .service(admin::setup)
        .service(me::me)
        .service(me::change_password)
        .service(me::totp_setup)
        .service(me::totp_confirm)
        .service(me::totp_disable)
        .service(me::recovery_codes)
        .service(me::sessions)
        .service(me::revoke_session)
        .service(admin::list_users)
        .service(admin::create_user)
        .service(admin::get_user)
        .service(admin::update_user)
        .service(admin::reset_password)
        .service(admin::unlock)
        .service(admin::force_logout)
        .service(admin::reset_totp)
        .service(roles::permissions)
        .service(roles::list_roles)
        .service(roles::create_role)
        .service(roles::update_role)
        .service(roles::delete_role)
        .service(roles::list_teams)
        .service(roles::create_team)
        .service(roles::rename_team)
        .service(roles::list_inboxes)
        .service(roles::create_inbox)
        .service(roles::get_settings)
        .service(roles::update_settings)
        .service(audit_api::list)
        .service(audit_api::events)
        .service(audit_api::verify)
        .service(audit_api::export_archive)
        .service(conversations::list)
        .service(conversations::get)
        .service(conversations::history)
        .service(widget_visits::context)
        .service(conversations::send)
        .service(conversations::resend)
        .service(conversations::recall)
        .service(conversations::claim)
        .service(conversations::assign)
        .service(conversations::transfer)
        .service(conversations::set_status)
        .service(conversations::labels)
        .service(conversations::set_priority)
        .service(conversations::read)
        .service(conversations::pin)
        .service(conversations::labels_in_use)
        .service(canned::render_for)
        .service(canned::search)
        .service(canned::create)
        .service(canned::update)
        .service(canned::remove)
        .service(contacts::directory)
        .service(contacts::get_contact)
        .service(contacts::timeline)
        .service(contacts::update)
        .service(contacts::merge)
        .service(contacts::split)
        .service(scoped::reveal)
        .service(attachments::upload)
        .service(attachments::download)
        .service(agents::list_agents)
        .service(agents::my_agent)
        .service(agents::set_status)
        .service(agents::set_profile)
        .service(agents::overview)
        .service(inboxes::get)
        .service(inboxes::update)
        .service(inboxes::rotate_token)
        .service(inboxes::rotate_identity_secret)
        .service(wechat_admin::get)
        .service(wechat_admin::update)
        .service(wechat_admin::test)
        .service(inboxes::get_team)
        .service(inboxes::update_team)
        .service(ws::connect)
        .route("/assets/{path:.*}", web::get().to(assets::hashed));
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "cannot listen on {addr}: {source}. Another program (or another Atrium) may be using the \
         port: stop it, or set http.listen (ATRIUM_HTTP__LISTEN, --listen) to a free address"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::Error),
}

/// Bind the listening socket (before any runtime exists, so the port is known early).
pub fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr).map_err(|e| Error::Bind { addr, source: e })
}

/// Build and start the HTTP server on `listener`. Must run inside an actix/tokio runtime.
pub fn start(
    state: web::Data<AppState>,
    listener: TcpListener,
    cert: Option<Arc<tls::ReloadableCert>>,
    extra: Option<ExtraRoutes>,
) -> Result<actix_web::dev::Server, Error> {
    let cfg = &state.config;
    let workers = match cfg.http.workers {
        0 => std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
        n => n,
    };
    let body_limit = cfg.http.max_body_bytes;
    let shutdown = cfg.http.shutdown_timeout.as_secs();
    let data = state.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(body_limit))
            .app_data(web::PayloadConfig::new(body_limit))
            .wrap(Compress::default())
            .wrap(from_fn(middleware::request_context))
            .configure(routes)
            .configure(|c| {
                if let Some(f) = extra {
                    f(c);
                }
            })
            .default_service(web::to(assets::fallback))
    })
    .workers(workers)
    .shutdown_timeout(shutdown);
    let addr = listener.local_addr().ok();
    let server = match cert {
        Some(cert) => {
            let tls = tls::server_config(cert)?;
            server.listen_rustls_0_23(listener, tls)
        }
        None => server.listen(listener),
    }
    .map_err(|e| Error::Bind {
        addr: addr.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0))),
        source: e,
    })?;
    Ok(server.run())
}
