# Scriptlets of xsovs.spec: what installing, upgrading and erasing xsovs
# change on a host, and what a vendor package's upgrade puts right again.
# The spec makes each scriptlet from this file plus one call
# (xsovs_pre "$@", xsovs_post "$@", ...), after XSOVS_SITELIB=<dom0's
# site-packages>; POSIX sh and the few tools a
# minimal host has (cp, mv, ln, rm, mkdir, readlink, touch).
#
# Mechanism (see the RPM section of README.md):
#  * XAPI's plugin paths.  The vendor packages own
#    /etc/xapi.d/plugins/openvswitch-cfg-update (openvswitch),
#    /etc/xapi.d/plugins/openvswitch-config-update (xapi-core) and, on
#    XCP-ng, /etc/xapi.d/plugins/sdncontroller.py (xcp-ng-xapi-plugins: Xen
#    Orchestra's traffic rules).  XAPI runs a plugin by that path, so the
#    path itself must run xsovs: the vendor's file is copied to
#    /var/lib/xsovs/vendor-files/, then a symlink to the xsovs plugin of the
#    same job, made beside it, is renamed over it.  rename(2) replaces
#    the name in one step, so a call from XAPI during the transaction runs
#    either the vendor's plugin or xsovs's, never nothing.  Erasing renames
#    a copy of the saved file back the same way, before the xsovs plugin
#    itself is removed.  A vendor upgrade writes its new file over the
#    symlink; the triggers (xsovs_trigger_in) save that file and link again.
#  * Units.  xsovs ships drop-ins for the vendor's units
#    (openvswitch.service.d/xsovs.conf and, with xsovs's own sync daemon,
#    openvswitch-xapi-sync.service.d/xsovs.conf): the vendor's unit names
#    stay, start nothing of their own and pull in xsovs's units instead.
#    The vendor's unit files and enable links are never touched, so erasing
#    (the drop-ins go with the package) gives them back exactly as they were.

XSOVS_LIBEXEC=/usr/libexec/xsovs
XSOVS_PLUGIN=$XSOVS_LIBEXEC/xapi-plugins/openvswitch-cfg-update
XSOVS_SDN_PLUGIN=$XSOVS_LIBEXEC/xapi-plugins/sdncontroller.py
XSOVS_SAVED=/var/lib/xsovs/vendor-files
XSOVS_RUN=/run/xsovs
XSOVS_BOOT_MARKER=$XSOVS_RUN/openvswitch.booted
# The vendor's start script deletes every bridge when this is missing.
VENDOR_BOOT_MARKER=/var/run/openvswitch.booted
VENDOR_PLUGINS="/etc/xapi.d/plugins/openvswitch-cfg-update /etc/xapi.d/plugins/openvswitch-config-update /etc/xapi.d/plugins/sdncontroller.py"
UNITDIR=/usr/lib/systemd/system
XSOVS_UNITS="openvswitch-boot.service openvswitch-xapi-update.service xsovs-xapi-sync.service xsovs-ovn-xapi-sync.service"
XSOVS_SYNC=xsovs-xapi-sync.service
# The OVN northbound sync: no vendor unit to take over; restarted on upgrade, stopped on erase.
XSOVS_OVN_SYNC=xsovs-ovn-xapi-sync.service
XSOVS_OVN_SYNC_REMOTE=/var/lib/xsovs/ovn-xapi-sync.remote
VENDOR_SYNC=openvswitch-xapi-sync.service
# Set in %preun when the vendor's sync daemon is to run again after the erase.
RESTART_VENDOR_SYNC=$XSOVS_RUN/restart-vendor-sync

xsovs_say() {
    echo "xsovs: $*" >&2
}

# Quiet systemctl: a host being installed in a chroot has no running systemd.
xsovs_systemctl() {
    systemctl "$@" >/dev/null 2>&1
}

# The xsovs units this package has (the sync daemon's may be missing).
xsovs_units() {
    for xsovs_unit in $XSOVS_UNITS; do
        if [ -f "$UNITDIR/$xsovs_unit" ]; then printf '%s ' "$xsovs_unit"; fi
    done
}

xsovs_exists() {
    [ -e "$1" ] || [ -L "$1" ]
}

# The xsovs plugin that answers for the plugin path PATH.
xsovs_plugin_for() {
    case "${1##*/}" in
        sdncontroller.py) echo "$XSOVS_SDN_PLUGIN" ;;
        *) echo "$XSOVS_PLUGIN" ;;
    esac
}

# Is PATH a link made by xsovs (to any of its plugins, of any version)?
xsovs_is_link() {
    [ -L "$1" ] || return 1
    case "$(readlink "$1")" in
        "$XSOVS_LIBEXEC"/*) return 0 ;;
    esac
    return 1
}

# %pre: can every path be taken over?  Fails the transaction (before any
# file of xsovs is on the host) naming the path that cannot be.  %post can
# only fail where %pre could not tell; rpm then merely warns, so %pre is what
# keeps a host from being half taken over.
xsovs_check() {
    for xsovs_path in $VENDOR_PLUGINS; do
        xsovs_dir=${xsovs_path%/*}
        xsovs_probe=$xsovs_dir/.${xsovs_path##*/}.xsovs-probe
        rm -f "$xsovs_probe" 2>/dev/null
        if ! mkdir -p "$xsovs_dir" 2>/dev/null \
            || ! ln -s "$(xsovs_plugin_for "$xsovs_path")" "$xsovs_probe" 2>/dev/null
        then
            xsovs_say "cannot take over $xsovs_path: cannot write in $xsovs_dir"
            return 1
        fi
        rm -f "$xsovs_probe"
        # A hard link fails where renaming over the file would: a read-only
        # or immutable file, a file mounted over (EROFS, EPERM, EXDEV).
        if [ -f "$xsovs_path" ] && [ ! -L "$xsovs_path" ]; then
            if ! ln "$xsovs_path" "$xsovs_probe" 2>/dev/null; then
                xsovs_say "cannot take over $xsovs_path: it cannot be replaced"
                return 1
            fi
            rm -f "$xsovs_probe"
        fi
    done
    xsovs_probe=$XSOVS_SAVED/.xsovs-probe
    if ! mkdir -p "$XSOVS_SAVED" 2>/dev/null || ! touch "$xsovs_probe" 2>/dev/null; then
        xsovs_say "cannot keep the vendor's files in $XSOVS_SAVED: not writable"
        return 1
    fi
    rm -f "$xsovs_probe"
}

# Save the vendor's file at PATH (when there is one) and put xsovs's link in
# its place.  On failure PATH is as it was and the message names it.
xsovs_divert() {
    xsovs_path=$1
    xsovs_name=${xsovs_path##*/}
    xsovs_new=${xsovs_path%/*}/.$xsovs_name.xsovs-new
    xsovs_saved=$XSOVS_SAVED/$xsovs_name
    xsovs_fresh=no
    if xsovs_exists "$xsovs_path" && ! xsovs_is_link "$xsovs_path"; then
        # The vendor's file (a first install, or a vendor upgrade wrote it).
        xsovs_exists "$xsovs_saved" || xsovs_fresh=yes
        if ! mkdir -p "$XSOVS_SAVED" 2>/dev/null \
            || ! cp -pP "$xsovs_path" "$xsovs_saved.tmp" 2>/dev/null \
            || ! mv -f "$xsovs_saved.tmp" "$xsovs_saved" 2>/dev/null; then
            rm -f "$xsovs_saved.tmp" 2>/dev/null
            xsovs_say "cannot take over $xsovs_path: cannot save it in $XSOVS_SAVED"
            return 1
        fi
    fi
    rm -f "$xsovs_new" 2>/dev/null
    if ! ln -s "$(xsovs_plugin_for "$xsovs_path")" "$xsovs_new" 2>/dev/null \
        || ! mv -f "$xsovs_new" "$xsovs_path" 2>/dev/null; then
        rm -f "$xsovs_new" 2>/dev/null
        # A copy saved just now goes again; an older one is the vendor's
        # file as it is in place, which keeps an erase right.
        if [ "$xsovs_fresh" = yes ]; then rm -f "$xsovs_saved"; fi
        xsovs_say "cannot take over $xsovs_path: cannot replace it"
        return 1
    fi
}

# Put the vendor's saved file back at PATH (or remove xsovs's link where
# there was none).  A vendor's file already in place is kept.
xsovs_restore() {
    xsovs_path=$1
    xsovs_name=${xsovs_path##*/}
    xsovs_old=${xsovs_path%/*}/.$xsovs_name.xsovs-old
    xsovs_saved=$XSOVS_SAVED/$xsovs_name
    if xsovs_exists "$xsovs_saved"; then
        if xsovs_is_link "$xsovs_path" || ! xsovs_exists "$xsovs_path"; then
            rm -f "$xsovs_old" 2>/dev/null
            if ! cp -pP "$xsovs_saved" "$xsovs_old" 2>/dev/null \
                || ! mv -f "$xsovs_old" "$xsovs_path" 2>/dev/null; then
                rm -f "$xsovs_old" 2>/dev/null
                xsovs_say "cannot put the vendor's $xsovs_path back (kept in $xsovs_saved)"
                return 1
            fi
        fi
        rm -f "$xsovs_saved"
    elif xsovs_is_link "$xsovs_path"; then
        if ! rm -f "$xsovs_path" 2>/dev/null; then
            xsovs_say "cannot remove $xsovs_path"
            return 1
        fi
    fi
}

# STEP on every plugin path (but those SKIP says are done already), all or
# none: when one fails, UNDO the paths this run changed and fail.
xsovs_all_or_none() {
    xsovs_done=""
    for xsovs_each in $VENDOR_PLUGINS; do
        if [ -n "${3:-}" ] && "$3" "$xsovs_each"; then
            continue
        fi
        if "$1" "$xsovs_each"; then
            xsovs_done="$xsovs_done $xsovs_each"
        else
            for xsovs_undo in $xsovs_done; do "$2" "$xsovs_undo" || :; done
            return 1
        fi
    done
}

xsovs_runs_xsovs() {
    xsovs_is_link "$1" && [ "$(readlink "$1")" = "$(xsovs_plugin_for "$1")" ]
}

# Every plugin path runs xsovs, or (on failure) none more than before.
xsovs_take_over() {
    xsovs_all_or_none xsovs_divert xsovs_restore xsovs_runs_xsovs
}

# Every plugin path is the vendor's again, or (on failure) all stay xsovs's.
xsovs_give_back() {
    xsovs_all_or_none xsovs_restore xsovs_divert
}

# A path a vendor package took away (erased with --nodeps, or dropped in a
# new release) has no vendor's file to give back any more.
xsovs_forget_missing() {
    for xsovs_each in $VENDOR_PLUGINS; do
        if ! xsovs_exists "$xsovs_each"; then rm -f "$XSOVS_SAVED/${xsovs_each##*/}"; fi
    done
}

# One bridge deletion per boot: a switch started by the vendor's script this
# boot counts as xsovs's first start, and the other way round on erase.
xsovs_mark_booted() {
    if [ -e "$VENDOR_BOOT_MARKER" ] && [ ! -e "$XSOVS_BOOT_MARKER" ]; then
        mkdir -p "$XSOVS_RUN" && touch "$XSOVS_BOOT_MARKER"
    fi
}

xsovs_pre() {
    xsovs_check || exit 1
}

xsovs_post() {
    xsovs_systemctl daemon-reload || :
    if ! xsovs_take_over; then
        xsovs_say "XAPI's plugins are left to the vendor's packages; fix the above and" \
            "reinstall xsovs (rpm -i --replacepkgs), or erase it"
        exit 1
    fi
    xsovs_mark_booted
    if [ "$1" -eq 1 ]; then
        # Enabled for the next boot, not started: the switch runs already.
        xsovs_systemctl enable $(xsovs_units) || :
    fi
    if [ -f "$UNITDIR/$XSOVS_SYNC" ]; then
        # The vendor's sync unit (now pulling in xsovs's) restarts only when
        # it was running: one sync daemon, the same one as before.
        xsovs_systemctl try-restart "$VENDOR_SYNC" || :
        if [ "$1" -gt 1 ]; then xsovs_systemctl try-restart "$XSOVS_SYNC" || :; fi
    fi
    if [ "$1" -gt 1 ]; then xsovs_systemctl try-restart "$XSOVS_OVN_SYNC" || :; fi
    python3 -m compileall -q "$XSOVS_SITELIB/xsovs_common" >/dev/null 2>&1 || :
    xsovs_systemctl try-restart rsyslog.service || :
}

xsovs_preun() {
    [ "$1" -eq 0 ] || return 0
    if ! xsovs_give_back; then
        xsovs_say "xsovs stays installed; fix the above and erase it again"
        exit 1
    fi
    # Disabled, not stopped: stopping the switch would cut the host's network.
    xsovs_systemctl --no-reload disable $(xsovs_units) || :
    if [ -f "$UNITDIR/$XSOVS_SYNC" ]; then
        if systemctl is-active --quiet "$VENDOR_SYNC" 2>/dev/null \
            || systemctl is-active --quiet "$XSOVS_SYNC" 2>/dev/null; then
            mkdir -p "$XSOVS_RUN" && touch "$RESTART_VENDOR_SYNC"
        fi
        xsovs_systemctl stop "$XSOVS_SYNC" || :
    fi
    xsovs_systemctl stop "$XSOVS_OVN_SYNC" || :
    rm -f "$XSOVS_OVN_SYNC_REMOTE"
    rm -rf "$XSOVS_SITELIB/xsovs_common/__pycache__"
}

xsovs_postun() {
    xsovs_systemctl daemon-reload || :
    [ "$1" -eq 0 ] || return 0
    if [ -e "$XSOVS_BOOT_MARKER" ] && [ ! -e "$VENDOR_BOOT_MARKER" ]; then
        mkdir -p "${VENDOR_BOOT_MARKER%/*}" && touch "$VENDOR_BOOT_MARKER"
    fi
    if [ -e "$RESTART_VENDOR_SYNC" ]; then
        rm -f "$RESTART_VENDOR_SYNC"
        xsovs_systemctl restart "$VENDOR_SYNC" || :
    fi
    xsovs_systemctl try-restart rsyslog.service || :
}

# A vendor package was installed or upgraded: it may have laid its own
# plugin down again.
xsovs_trigger_in() {
    if ! xsovs_take_over; then
        xsovs_say "XAPI runs the vendor's plugins until xsovs is reinstalled"
        exit 1
    fi
}

# A vendor package's old release (or the package) is gone.
xsovs_trigger_postun() {
    xsovs_forget_missing
    xsovs_trigger_in
}
