#!/bin/sh
# Make sure the Debian packages the app (or its tests) need are present.
# usage: system-deps.sh run|test
# Installs them with apt-get when running as root or with password-less sudo;
# otherwise prints the exact command and exits 1.
set -eu
purpose=${1:-run}
PYTHON=${PYTHON:-python3}
missing=""

# PortAudio: sounddevice's wheel on Linux does not bundle it.
if ! ldconfig -p 2>/dev/null | grep -q 'libportaudio\.so'; then
    missing="$missing libportaudio2"
fi
# Tk: PySimpleGUI draws with tkinter.
if ! "$PYTHON" -c 'import tkinter' >/dev/null 2>&1; then
    missing="$missing python3-tk"
fi
if [ "$purpose" = test ]; then
    # A real window on a virtual screen, and an ALSA null device for a real stream.
    command -v xvfb-run >/dev/null 2>&1 || missing="$missing xvfb xauth"
    # real mouse and key events for the window's acceptance tests (test_window_real_input.py)
    command -v xdotool >/dev/null 2>&1 || missing="$missing xdotool"
    [ -e /usr/share/alsa/alsa.conf ] || missing="$missing libasound2"
    # a real window manager (title bars) and xwininfo, for the window's on-screen fit (test_window_on_screen.py)
    command -v twm >/dev/null 2>&1 || missing="$missing twm"
    command -v xwininfo >/dev/null 2>&1 || missing="$missing x11-utils"
    # Real input events on that screen (the window's acceptance tests).
    command -v xdotool >/dev/null 2>&1 || missing="$missing xdotool"
    # A real client for exported kits: Hydrogen's h2cli.
    command -v h2cli >/dev/null 2>&1 || missing="$missing hydrogen"
    # A real browser for the web page: Debian's Chromium and its WebDriver.
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v chromedriver >/dev/null 2>&1 || missing="$missing chromium-driver"
    # strace kills the kit export and generate at an exact system call (test_kit_generate_nothing_lost.py)
    command -v strace >/dev/null 2>&1 || missing="$missing strace"
    # Debian's nginx as load balancer and proxy cache before two replicas (test_web_nginx.py)
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "Missing system packages:$missing" >&2
    echo "Run:  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "Installing system packages:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq$missing
