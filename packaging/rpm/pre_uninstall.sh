# %preun for atrium (RPM). $1 = 0 on erase, 1 on upgrade.
# On erase, stop and disable the service before its files go away.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now atrium.service >/dev/null 2>&1 || :
fi
exit 0
