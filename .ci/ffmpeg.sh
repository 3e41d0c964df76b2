# Sourced by .ci/run: ffmpeg, which voice needs (it encodes each song to Opus for /listen), installed from Debian's
# packages when missing, as postgres.sh installs PostgreSQL.

ensure_ffmpeg() {
    if command -v ffmpeg >/dev/null 2>&1; then
        return 0
    fi
    echo "installing ffmpeg from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends ffmpeg >/dev/null || return 1
    if ! command -v ffmpeg >/dev/null 2>&1; then
        echo "apt-get installed ffmpeg, but no ffmpeg is on PATH" >&2
        return 1
    fi
}
