# Sourced by install.sh and test.sh: sets PY to the Python of the project's virtual environment.
# Debian and Ubuntu refuse `pip install` into the system Python (PEP 668), so everything goes
# into .venv (or the environment already active, or DICOMIFY_VENV).
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi

apt_install() {
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [ -n "${VIRTUAL_ENV:-}" ]; then
    PY="$VIRTUAL_ENV/bin/python"
else
    VENV="${DICOMIFY_VENV:-.venv}"
    if [ ! -x "$VENV/bin/python" ]; then
        # Debian's python3 needs python3-venv (ensurepip) for this.
        python3 -m venv "$VENV" 2>/dev/null || { rm -rf "$VENV"; apt_install python3-venv; python3 -m venv "$VENV"; }
    fi
    PY="$VENV/bin/python"
fi
