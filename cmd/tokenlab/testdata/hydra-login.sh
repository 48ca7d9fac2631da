#!/bin/sh
# A login helper for `tokenlab probe --login-helper` against Ory Hydra,
# which has no login page of its own: it sends the browser to a login and
# a consent app with a challenge. This script is that app, through Hydra's
# admin API (its URL the first argument): it opens the authorize URL (the
# last argument), accepts the login request as TOKENLAB_USERNAME and the
# consent request with the scopes asked for, and follows Hydra's redirects
# (with its cookies) to the probe's loopback. No password is involved:
# Hydra leaves checking it to the login app.
set -eu
admin="$1"
url="$2"
jar="$(mktemp)"
trap 'rm -f "$jar"' EXIT
# location URL: where Hydra sends the browser from URL (its cookies kept).
location() {
  curl --silent --show-error --fail --cookie "$jar" --cookie-jar "$jar" --output /dev/null \
    --write-out '%{redirect_url}' "$1"
}
# challenge NAME URL: the value of the query parameter NAME in URL.
challenge() { printf '%s\n' "$2" | sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p"; }
# accept KIND CHALLENGE BODY: accept the login or consent request; prints
# the redirect_to Hydra answers.
accept() {
  curl --silent --show-error --fail -X PUT -H 'Content-Type: application/json' --data "$3" \
    "$admin/admin/oauth2/auth/requests/$1/accept?$1_challenge=$2" | sed -n 's/.*"redirect_to":"\([^"]*\)".*/\1/p'
}
login="$(location "$url")"
next="$(accept login "$(challenge login_challenge "$login")" "{\"subject\":\"$TOKENLAB_USERNAME\"}")"
consent="$(location "$(printf '%s' "$next" | sed 's/\\u0026/\&/g')")"
next="$(accept consent "$(challenge consent_challenge "$consent")" '{"grant_scope":["openid","offline_access","offline"]}')"
callback="$(location "$(printf '%s' "$next" | sed 's/\\u0026/\&/g')")"
exec curl --silent --show-error --fail --output /dev/null "$callback"
