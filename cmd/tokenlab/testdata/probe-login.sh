#!/bin/sh
# A login helper for `tokenlab probe --login-helper` against `tokenlab
# serve`, with curl. The password comes from the file named by
# TOKENLAB_PASSWORD_FILE, never from the command line.
#
# An authorize URL: open it, post the login form back (the request's own
# parameters, the page's form_token, the user's name and password) and
# follow the redirect to the probe's loopback.
# A device login (TOKENLAB_USER_CODE is set): approve the code on the
# verification page.
# A refused login leaves curl's error on stderr and exits non-zero.
set -eu
url="$1"
endpoint="${url%%\?*}"
# The password file's first line, without its line ending (as tokenlab
# reads it), goes to curl on stdin: never on a command line.
password() { head -n 1 "$TOKENLAB_PASSWORD_FILE" | tr -d '\r\n'; }
if [ -n "${TOKENLAB_USER_CODE:-}" ]; then
  password | exec curl --silent --show-error --fail --output /dev/null \
    --data-urlencode "user_code=$TOKENLAB_USER_CODE" --data-urlencode "username=$TOKENLAB_USERNAME" \
    --data-urlencode "password@-" --data "action=approve" "$endpoint"
  exit
fi
query="${url#*\?}"
page="$(curl --silent --show-error --fail "$url")"
token="$(printf '%s' "$page" | sed -n 's/.*name="form_token" value="\([^"]*\)".*/\1/p' | head -n 1)"
password | curl --silent --show-error --fail --location --max-redirs 1 --output /dev/null \
  --data "$query" --data-urlencode "form_token=$token" --data-urlencode "username=$TOKENLAB_USERNAME" \
  --data-urlencode "password@-" --data "action=approve" "$endpoint"
