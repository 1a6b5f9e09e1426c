# %post for atrium (RPM). $1 = 1 on first install, 2 on upgrade.
# Never enables or starts atrium.service (on upgrade, %postun restarts a
# running service).
mkdir -p /etc/atrium
chown root:atrium /etc/atrium
chmod 0750 /etc/atrium
if [ -f /etc/atrium/atrium.toml ]; then
    chown root:atrium /etc/atrium/atrium.toml
    chmod 0640 /etc/atrium/atrium.toml
fi
if [ -f /etc/atrium/master.key ]; then
    chown atrium:atrium /etc/atrium/master.key
    chmod 0600 /etc/atrium/master.key
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -eq 1 ]; then
    cat <<'MSG'

  Atrium is installed, but not enabled or started.

  Next steps:
    1. Edit /etc/atrium/atrium.toml (all options are documented in
       /usr/share/doc/atrium/atrium.toml.example). It listens on
       127.0.0.1:8080 by default; to listen on another address, configure
       TLS ([tls] cert/key) or set http.behind_tls_proxy = true when a
       TLS reverse proxy sits in front.
    2. Start it now and at every boot:
           systemctl enable --now atrium
    3. Open the one-time setup link printed in the log:
           journalctl -u atrium
    4. BACK UP /etc/atrium/master.key (created at the first start) to a safe
       place separate from /var/lib/atrium: without it the data cannot be
       decrypted.

MSG
fi
exit 0
