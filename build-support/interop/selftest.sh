#!/usr/bin/env bash
# Self-test of pseud_peer.py against itself (real Python pseud on both ends).
#
#   build-support/interop/selftest.sh [VENV_DIR]
#
# Sets up the venv (setup-venv.sh), then for each server security mode
# (noop, trusted_peer, plain) starts `pseud_peer.py serve` on a free
# tcp://127.0.0.1 port (bound to port "*", the ready line says which), and
# checks the output of `call` / `batch` runs against it. Exits non-zero on any
# mismatch. Every process runs under `timeout`; synchronisation is done by
# waiting for output lines, never by sleeping a fixed time.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="$("$here/setup-venv.sh" "$@" | tail -n 1)" || { echo "selftest: setup-venv.sh failed" >&2; exit 1; }
[ -x "$PY" ] || { echo "selftest: setup-venv.sh did not print a python path (got '$PY')" >&2; exit 1; }
PEER="$here/pseud_peer.py"

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
    exec 8>&- 2>/dev/null || true
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   - $1"; }
not_ok() {
    failed=$((failed + 1))
    echo "FAIL - $1"
    shift
    for line in "$@"; do echo "       $line"; done
}

# wait_for_line FILE REGEX SECONDS [PID]: poll FILE until a line matches
# (fails early when PID has exited)
wait_for_line() {
    local file="$1" regex="$2" secs="$3" pid="${4:-}" i
    for ((i = 0; i < secs * 20; i++)); do
        grep -qE "$regex" "$file" 2>/dev/null && return 0
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            grep -qE "$regex" "$file" 2>/dev/null && return 0
            return 1
        fi
        sleep 0.05
    done
    return 1
}

# start_server ARGS...: sets EP; the server's stdin is a fifo held open on fd 8
start_server() {
    rm -f "$tmp/in" "$tmp/server.out" "$tmp/server.err"
    mkfifo "$tmp/in"
    timeout 300 "$PY" "$PEER" serve --endpoint 'tcp://127.0.0.1:*' "$@" \
        <"$tmp/in" >"$tmp/server.out" 2>"$tmp/server.err" &
    server_pid=$!
    exec 8>"$tmp/in"
    if ! wait_for_line "$tmp/server.out" '"event":"ready"' 20 "$server_pid"; then
        not_ok "serve $* prints a ready line" "stdout: $(cat "$tmp/server.out")" \
            "stderr: $(tail -n 20 "$tmp/server.err")"
        echo "selftest: cannot continue without a server" >&2
        exit 1
    fi
    EP="$(sed -n 's/.*"event":"ready","endpoint":"\([^"]*\)".*/\1/p' "$tmp/server.out" | head -n 1)"
    ok "serve $* ready on $EP"
}

# stop_server eof|term: the server must exit 0 within 10 s
stop_server() {
    local how="$1" i rc
    if [ "$how" = eof ]; then
        exec 8>&-
    else
        kill -TERM "$server_pid"
    fi
    for ((i = 0; i < 200; i++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        not_ok "server exits after $how" "still running after 10 s (killed)"
    else
        exec 8>&-
        wait "$server_pid"
        rc=$?
        if [ "$rc" = 0 ]; then ok "server exits 0 after $how"; else
            not_ok "server exits 0 after $how" "exit status $rc" "stderr: $(tail -n 20 "$tmp/server.err")"
        fi
    fi
    server_pid=""
}

# expect_call DESC RC EXPECTED_STDOUT -- PEER_CALL_ARGS...
expect_call() {
    local desc="$1" want_rc="$2" want="$3" got rc
    shift 4
    got="$(timeout 60 "$PY" "$PEER" call --endpoint "$EP" "$@" 2>"$tmp/client.err")"
    rc=$?
    if [ "$got" = "$want" ] && [ "$rc" = "$want_rc" ]; then
        ok "$desc"
    else
        not_ok "$desc" "want (exit $want_rc): $want" "got  (exit $rc): $got" \
            "stderr: $(tail -n 5 "$tmp/client.err")"
    fi
}

# expect_call_re DESC RC EXTENDED_REGEX -- PEER_CALL_ARGS...
expect_call_re() {
    local desc="$1" want_rc="$2" want="$3" got rc
    shift 4
    got="$(timeout 60 "$PY" "$PEER" call --endpoint "$EP" "$@" 2>"$tmp/client.err")"
    rc=$?
    if [[ "$got" =~ $want ]] && [ "$rc" = "$want_rc" ]; then
        ok "$desc"
    else
        not_ok "$desc" "want (exit $want_rc) a match of: $want" "got  (exit $rc): $got" \
            "stderr: $(tail -n 5 "$tmp/client.err")"
    fi
}

# expect_batch DESC EXPECTED_STDOUT_FILE INPUT_FILE -- PEER_BATCH_ARGS...
expect_batch() {
    local desc="$1" want="$2" input="$3" got rc
    shift 4
    got="$(timeout 60 "$PY" "$PEER" batch --endpoint "$EP" "$@" <"$input" 2>"$tmp/client.err")"
    rc=$?
    if [ "$got" = "$(cat "$want")" ] && [ "$rc" = 0 ]; then
        ok "$desc"
    else
        not_ok "$desc" "want (exit 0):" "$(cat "$want")" "got (exit $rc):" "$got" \
            "stderr: $(tail -n 5 "$tmp/client.err")"
    fi
}

ERR_NOOP_CALLBACK='{"error":{"class":"LookupError","message":"the caller has no user id (security noop), so pseud cannot address it with send_to()"}}'
ERR_AUTH='{"error":{"class":"UnauthorizedError","message":"the server refused the PLAIN handshake (ZAP status 400): wrong user name or password"}}'

# ---------------------------------------------------------------- noop
echo "# security noop"
start_server --security noop

expect_call "add(2, 5)" 0 '7' -- add '[2,5]'
expect_call "add('a', 'b')" 0 '"ab"' -- add '["a","b"]'
expect_call "string.upper('hello') (dotted name)" 0 '"HELLO"' -- string.upper '["hello"]'
expect_call "kw(1)" 0 '[1,2]' -- kw '[1]'
expect_call "kw(1, b=3)" 0 '[1,3]' -- kw '[1]' '{"b":3}'
expect_call "kw(a=5)" 0 '[5,2]' -- kw '[]' '{"a":5}'
expect_call "sleep(0.2) (async handler)" 0 '0.2' -- sleep '[0.2]'
expect_call "fail() -> ERROR ValueError" 1 '{"error":{"class":"ValueError","message":"boom"}}' -- fail
expect_call "unknown name -> ServiceNotFoundError" 1 \
    '{"error":{"class":"ServiceNotFoundError","message":"no.such.thing"}}' -- no.such.thing
expect_call "whoami() without ZAP -> empty user id" 0 '{"$bytes":""}' -- whoami
expect_call "callback.ping() under noop -> clear error" 1 "$ERR_NOOP_CALLBACK" -- callback.ping
expect_call "callback.inline() under noop -> clear error" 1 "$ERR_NOOP_CALLBACK" -- callback.inline
expect_call "sleep(3) with --timeout 1 -> TimeoutError" 1 \
    '{"error":{"class":"TimeoutError","message":"no reply within 1.0s"}}' -- --timeout 1 sleep '[3]'
expect_call "wrong server name -> TimeoutError" 1 \
    '{"error":{"class":"TimeoutError","message":"no reply within 1.0s"}}' -- --timeout 1 --name nobody add '[1,2]'

echo_value='[null,true,false,0,-1,127,128,-33,65536,18446744073709551615,-9223372036854775808,1.5,-0.0,1e+300,"","héllo ☃",{"$bytes":""},{"$bytes":"00ff"},[],[1,[2,[3]]],{},{"a":1,"b":[1,2]},{"nested":{"deep":[1,{"x":{"$bytes":"79"}}]}},{"$map":[[1,"intkey"]]},{"$map":[[{"$bytes":"6b"},"byteskey"],[[1,2],"arraykey"]]},{"$map":[["$bytes","a str map whose only key looks like a tag"]]},{"$ext":[5,"0102"]},{"$ext":[0,""]},{"$ext":[127,"ff"]}]'
expect_call "echo(x) round-trips every JSON convention form" 0 "$echo_value" -- echo "[$echo_value]"
date_ext='{"$ext":[126,"80059520000000000000008c086461746574696d65948c0464617465949394430407e4010294859452942e"]}'
expect_call "echo of a datetime.date ext (pseud unpickles and re-pickles it)" 0 "$date_ext" -- echo "[$date_ext]"

cat >"$tmp/batch.in" <<'EOF'
{"name":"add","args":[1,2]}

{"name":"fail"}
{"name":"kw","args":[1],"kwargs":{"b":{"$bytes":"ff"}}}
{"name":"string.upper","args":["x"]}
{"name":"nope"}
not json
{"name":"echo","args":[{"k":{"$map":[[true,null]]}}]}
{"name":"whoami"}
{"name":"sleep","args":[0.05]}
EOF
cat >"$tmp/batch.want" <<'EOF'
3
{"error":{"class":"ValueError","message":"boom"}}
[1,{"$bytes":"ff"}]
"X"
{"error":{"class":"ServiceNotFoundError","message":"nope"}}
{"error":{"class":"UsageError","message":"bad request line: Expecting value: line 1 column 1 (char 0)"}}
{"k":{"$map":[[true,null]]}}
{"$bytes":""}
0.05
EOF
expect_batch "batch: one result line per request line, on one client" "$tmp/batch.want" "$tmp/batch.in" --
expect_call "noop client still served after all that" 0 '7' -- add '[3,4]'
grep -q '"event":"reader_error"' "$tmp/server.out" \
    && not_ok "no reader_error events" "$(grep reader_error "$tmp/server.out")" \
    || ok "no reader_error events"
stop_server eof

# ---------------------------------------------------------------- trusted_peer
echo "# security trusted_peer"
start_server --security trusted_peer --call-client carol
A=(--security plain --user alice --password anything)

expect_call "whoami() as alice -> b'alice'" 0 '{"$bytes":"616c696365"}' -- "${A[@]}" whoami
expect_call "whoami() as bob (any password) -> b'bob'" 0 '{"$bytes":"626f62"}' \
    -- --security plain --user bob --password whatever whoami
expect_call "add(2, 5) as alice" 0 '7' -- "${A[@]}" add '[2,5]'
# libzmq reports a mechanism mismatch as EPIPE or as a protocol error (racy)
expect_call_re "noop client against a PLAIN server -> HandshakeError" 1 \
    '^\{"error":\{"class":"HandshakeError","message":"ZMTP handshake with [^"]* failed \([^"]*\); does --security match the server.s\?"\}\}$' \
    -- --timeout 3 add '[1,2]'
expect_call "callback.ping() as alice, staying 1 s" 0 '"scheduled"' -- "${A[@]}" --stay 1 callback.ping
expect_call "callback.results() as alice -> the background client.ping result" 0 '["pong"]' \
    -- "${A[@]}" callback.results
expect_call "callback.results() as bob -> none" 0 '[]' -- --security plain --user bob --password x callback.results
expect_call "callback.inline() as alice" 0 '"pong"' -- "${A[@]}" callback.inline

printf '%s\n' '{"name":"callback.ping"}' '{"name":"callback.ping"}' '{"name":"callback.results"}' \
    '{"name":"callback.inline"}' >"$tmp/batch.in"
printf '%s\n' '"scheduled"' '"scheduled"' '["pong","pong"]' '"pong"' >"$tmp/batch.want"
expect_batch "batch as dave: 2x callback.ping, callback.results, callback.inline" \
    "$tmp/batch.want" "$tmp/batch.in" -- --security plain --user dave --password x

expect_call "carol connects (server has --call-client carol)" 0 '3' \
    -- --security plain --user carol --password x --stay 1 add '[1,2]'
if wait_for_line "$tmp/server.out" '"event":"server_callback"' 10 "$server_pid"; then
    got="$(grep '"event":"server_callback"' "$tmp/server.out" | head -n 1)"
    want='{"event":"server_callback","user":"carol","ok":true,"result":"pong"}'
    if [ "$got" = "$want" ]; then ok "server printed $want"; else
        not_ok "server_callback event" "want: $want" "got:  $got"; fi
else
    not_ok "server_callback event" "no event line; stdout: $(cat "$tmp/server.out")"
fi
stop_server term

# ---------------------------------------------------------------- plain
echo "# security plain"
start_server --security plain

expect_call "alice/secret whoami" 0 '{"$bytes":"616c696365"}' \
    -- --security plain --user alice --password secret whoami
expect_call "bob/hunter2 whoami" 0 '{"$bytes":"626f62"}' \
    -- --security plain --user bob --password hunter2 whoami
expect_call "bob/hunter2 callback.inline" 0 '"pong"' \
    -- --security plain --user bob --password hunter2 callback.inline
start=$(date +%s)
expect_call "alice with a wrong password -> UnauthorizedError" 1 "$ERR_AUTH" \
    -- --security plain --user alice --password wrong --timeout 5 whoami
elapsed=$(($(date +%s) - start))
if [ "$elapsed" -lt 4 ]; then ok "wrong password reported in ${elapsed}s, before the 5 s timeout"; else
    not_ok "wrong password reported quickly" "took ${elapsed}s"; fi
expect_call "unknown user mallory -> UnauthorizedError" 1 "$ERR_AUTH" \
    -- --security plain --user mallory --password secret whoami
printf '%s\n' '{"name":"add","args":[1,1]}' '{"name":"whoami"}' >"$tmp/batch.in"
printf '%s\n' "$ERR_AUTH" "$ERR_AUTH" >"$tmp/batch.want"
expect_batch "batch with a wrong password -> one error line per request" \
    "$tmp/batch.want" "$tmp/batch.in" -- --security plain --user bob --password nope
expect_call "alice/secret still served after rejected peers" 0 '[1,3]' \
    -- --security plain --user alice --password secret kw '[1]' '{"b":3}'
stop_server eof

echo "# $passed passed, $failed failed"
[ "$failed" = 0 ]
