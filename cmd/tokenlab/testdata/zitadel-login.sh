#!/bin/sh
# A login helper for `tokenlab probe --login-helper` against the zitadel/oidc
# example OP: open the authorize URL (it redirects to /login/username with the
# auth request's id), post the username and password (from the file named by
# TOKENLAB_PASSWORD_FILE) and follow the redirects to the probe's loopback.
set -eu
url="$1"
page="$(curl --silent --show-error --fail --location "$url")"
id="$(printf '%s' "$page" | sed -n 's/.*name="id" value="\([^"]*\)".*/\1/p' | head -n 1)"
base="${url%%/auth\?*}"
exec curl --silent --show-error --fail --location --max-redirs 3 --output /dev/null \
  --data-urlencode "id=$id" --data-urlencode "username=$TOKENLAB_USERNAME" \
  --data-urlencode "password@$TOKENLAB_PASSWORD_FILE" "$base/login/username"
