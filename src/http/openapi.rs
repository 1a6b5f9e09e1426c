//! The OpenAPI document, generated from the handlers' annotations, at `/api/openapi.json`.
//! The browsable page is `/api-docs.html` (part of the embedded web front-end).

use actix_web::{HttpResponse, get};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    admin, agents, attachments, audit_api, auth, canned, channel_api, contacts, conversations,
    deliveries, error, health, inboxes, me, roles, scoped, views, webhooks, wechat_admin,
    wechat_hook, widget, widget_visits, widget_ws, ws,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Atrium API",
        description = "On-premise omnichannel customer service. Every error answers \
            `{code, message, request_id}` with a stable snake_case `code`; every response carries \
            `X-Request-Id`.",
        license(name = "Apache-2.0")
    ),
    paths(
        health::healthz, health::readyz, health::metrics,
        auth::login, auth::session, auth::logout, admin::setup_info, admin::setup,
        me::me, me::change_password, me::totp_setup, me::totp_confirm, me::totp_disable,
        me::recovery_codes, me::sessions, me::revoke_session,
        admin::list_users, admin::create_user, admin::get_user, admin::update_user,
        admin::reset_password, admin::unlock, admin::force_logout, admin::reset_totp,
        roles::permissions, roles::list_roles, roles::create_role, roles::update_role,
        roles::delete_role, roles::list_teams, roles::create_team, roles::rename_team,
        roles::list_inboxes, roles::create_inbox, roles::get_settings, roles::update_settings,
        audit_api::list, audit_api::events, audit_api::verify, audit_api::export_archive,
        conversations::list, conversations::get, conversations::history, conversations::send,
        conversations::resend, conversations::recall, conversations::claim, conversations::assign,
        conversations::transfer, conversations::set_status, conversations::labels,
        conversations::set_priority, conversations::read, conversations::pin,
        conversations::labels_in_use,
        canned::render_for, canned::search, canned::create, canned::update, canned::remove,
        contacts::directory, contacts::get_contact, contacts::timeline, contacts::update,
        contacts::merge,
        contacts::split, scoped::reveal,
        attachments::upload, attachments::download,
        agents::list_agents, agents::my_agent, agents::set_status, agents::set_profile, agents::overview,
        inboxes::get, inboxes::update, inboxes::rotate_token, inboxes::rotate_identity_secret, inboxes::get_team,
        inboxes::update_team, channel_api::inbound, channel_api::conversation, channel_api::identify, deliveries::failed, deliveries::resend, channel_api::upload, channel_api::download, channel_api::csat, ws::connect,
        webhooks::list, webhooks::create, webhooks::update, webhooks::remove,
        webhooks::rotate_secret, webhooks::events, webhooks::resend,
        widget::config, widget::session, widget::poll, widget::send, widget::rate, widget::typing, widget::receipt, widget::send_file, widget::file, widget::prechat, widget::leave_message, widget_ws::connect, widget_visits::record, widget_visits::context,
        wechat_admin::get, wechat_admin::update, wechat_admin::test,
        wechat_hook::verify, wechat_hook::receive, wechat_hook::verify_wecom,
        wechat_hook::receive_wecom,
    ),
    components(schemas(
        error::ErrorBody, health::Health, health::Readiness,
        auth::LoginRequest, auth::SessionView, auth::SessionUser,
        admin::UserView, admin::CreateUser, admin::CreatedUser, admin::UpdateUser,
        admin::NewPassword, admin::SetupInfo, admin::Setup, admin::SetupDone,
        me::MeView, me::PasswordChange, me::PasswordOnly, me::TotpSetup, me::CodeOnly,
        me::RecoveryCodes, me::PasswordAndCode, me::SessionInfo,
        roles::PermissionView, roles::RoleView, roles::CreateRole, roles::UpdateRole,
        roles::TeamView, roles::TeamName, roles::InboxView, roles::CreateInbox,
        roles::SettingsView, roles::UpdateSettings,
        audit_api::AuditRecordView, audit_api::AuditPage, audit_api::VerifyRequest,
        audit_api::VerifyResult, audit_api::BrokenRecord, audit_api::ExportRequest,
        scoped::RevealRequest, views::ContactView,
        attachments::UploadedAttachment, attachments::UploadForm,
    )),
    modifiers(&Security),
    tags(
        (name = "operations", description = "Health, readiness and metrics for operators"),
        (name = "auth", description = "Sign-in, sessions (cookie + `X-CSRF-Token`), first-run setup"),
        (name = "me", description = "The signed-in user's password, two-factor sign-in and sessions"),
        (name = "users", description = "User accounts (`users:read`, `users:write`; administrator roles need `roles:assign_admin`)"),
        (name = "roles", description = "Roles and permissions (`roles:read`, `roles:write`)"),
        (name = "teams", description = "Teams (`teams:read`, `teams:write`)"),
        (name = "inboxes", description = "Inboxes (`channels:read`, `channels:write`)"),
        (name = "settings", description = "Organisation settings (`settings:read`, `settings:write`)"),
        (name = "audit", description = "The tamper-evident audit log (`audit:read`, `audit:export`)"),
        (name = "conversations", description = "Conversations within the caller's data scope"),
        (name = "canned replies", description = "Personal and shared canned replies"),
        (name = "agents", description = "Agent status, capacity and skills; the supervisor overview"),
        (name = "channels", description = "Inbound hooks of channels (API channel: bearer inbox token)"),
        (name = "realtime", description = "The agent WebSocket: events with sequence numbers and resume"),
        (name = "contacts", description = "Contacts within the caller's data scope; PII masked unless revealed (`pii:reveal`, audited)"),
        (name = "widget", description = "The website chat widget's visitor API (bearer visitor token from `session`)"),
        (name = "webhooks", description = "Event webhooks for integrations, signed like the API channel's replies (`channels:read`, `channels:write`)"),
        (name = "attachments", description = "Files sent in conversations: type checked by content, stored encrypted, served only within the caller's scope"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(utoipa::openapi::security::ApiKey::Cookie(
                utoipa::openapi::security::ApiKeyValue::new("atrium_session"),
            )),
        );
        components.add_security_scheme(
            "inbox_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "visitor_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document of this server.
#[get("/api/openapi.json")]
pub async fn openapi_json() -> HttpResponse {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    HttpResponse::Ok().json(doc)
}
