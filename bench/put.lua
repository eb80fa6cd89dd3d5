-- wrk script for the PUT load: every request uploads the same 1 KiB body, read from $BENCH_BODY.
wrk.method = "PUT"
local f = assert(io.open(assert(os.getenv("BENCH_BODY"), "BENCH_BODY is not set"), "rb"))
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/plain; charset=utf-8"
