#!/bin/sh
# A login helper for `tokenlab probe --login-helper` against `tokenlab
# serve`: it opens the authorize URL, posts the login form back (the
# request's own parameters, the page's form_token, the user's name and
# the password from the file named by TOKENLAB_PASSWORD_FILE, never from
# the command line) and follows the redirect to the probe's loopback. A
# refused login leaves curl's error on stderr and exits non-zero.
set -eu
url="$1"
endpoint="${url%%\?*}"
query="${url#*\?}"
page="$(curl --silent --show-error --fail "$url")"
token="$(printf '%s' "$page" | sed -n 's/.*name="form_token" value="\([^"]*\)".*/\1/p' | head -n 1)"
exec curl --silent --show-error --fail --location --max-redirs 1 --output /dev/null \
  --data "$query" --data-urlencode "form_token=$token" --data-urlencode "username=$TOKENLAB_USERNAME" \
  --data-urlencode "password@$TOKENLAB_PASSWORD_FILE" --data "action=approve" "$endpoint"
