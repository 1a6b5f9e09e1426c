# %pre for atrium (RPM). $1 = 1 on first install, 2 on upgrade.
# Create the system user and group before the files are unpacked, so that
# rpm can give /etc/atrium/atrium.toml to group atrium. Same definition as
# /usr/lib/sysusers.d/atrium.conf (which is not unpacked yet at this point).
if ! getent passwd atrium >/dev/null 2>&1; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers --inline \
            'u atrium - "Atrium customer-service appliance" /var/lib/atrium /usr/sbin/nologin'
    else
        getent group atrium >/dev/null 2>&1 || groupadd --system atrium
        useradd --system --gid atrium --home-dir /var/lib/atrium --no-create-home \
            --shell /usr/sbin/nologin --comment "Atrium customer-service appliance" atrium
    fi
fi
exit 0
