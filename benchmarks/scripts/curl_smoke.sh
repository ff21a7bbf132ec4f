#!/usr/bin/env bash
# A hand-written smoke check, the baseline for bench_speed.py: health, register,
# login, upload, poll until completed, download. What a team would write with curl.
#   curl_smoke.sh BASE_URL PDF_FILE      (prints the finished job's JSON)
set -euo pipefail
api="$1/api/v1"
pdf="$2"
name="curl$RANDOM$RANDOM"
curl -fsS "$api/health" >/dev/null
curl -fsS -X POST "$api/auth/register" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$name@example.com\",\"username\":\"$name\",\"password\":\"Passw0rd!xyz\"}" >/dev/null
token=$(curl -fsS -X POST "$api/auth/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$name@example.com\",\"password\":\"Passw0rd!xyz\"}" | jq -r .access_token)
auth="Authorization: Bearer $token"
job=$(curl -fsS -X POST "$api/upload/" -H "$auth" -F "file=@$pdf;type=application/pdf" | jq -r .id)
while :; do
  body=$(curl -fsS "$api/jobs/$job" -H "$auth")
  status=$(jq -r .status <<<"$body")
  [ "$status" = completed ] && break
  [ "$status" = failed ] && { echo "job failed" >&2; exit 1; }
  sleep 0.1
done
deck=$(jq -r .result_deck_id <<<"$body")
link=$(curl -fsS "$api/decks/$deck/download" -H "$auth" | jq -r .download_url)
case "$link" in http*) ;; *) link="$1$link" ;; esac
curl -fsS -o /dev/null "$link"
echo "$body"
