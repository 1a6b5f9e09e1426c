# %postun for atrium (RPM). $1 = 0 on erase, 1 on upgrade.
# Data, the master key and the user are NEVER deleted.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        # Upgrade: restart a running service on the new binary.
        systemctl try-restart atrium.service >/dev/null 2>&1 || :
    fi
fi
if [ "$1" -eq 0 ]; then
    cat <<'MSG'

  atrium was removed. These were KEPT on purpose; delete them yourself only
  if you really no longer need them (the data cannot be recovered without
  the key):
    /var/lib/atrium           database and attachments
    /etc/atrium/master.key    master key (and anything else in /etc/atrium)
    user and group "atrium"

MSG
fi
exit 0
