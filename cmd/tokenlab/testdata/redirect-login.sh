#!/bin/sh
# A login helper for `tokenlab probe --login-helper` against a provider
# without a login page (oauth2-mock-server answers every authorization
# request with a redirect that carries a code): follow that redirect to the
# probe's loopback. It never reads the password.
set -eu
exec curl --silent --show-error --fail --location --max-redirs 1 --output /dev/null "$1"
