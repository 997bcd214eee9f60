-- POST /api/v2/orders/ with LINES distinct random variants (one unit each), a random buyer
-- and a fresh Idempotency-Key: wrk ... order_create.lua -- TOKENS_FILE VARIANTS_FILE LINES
package.path = (os.getenv("BENCH_WRK_DIR") or ".") .. "/?.lua;" .. package.path
local bench = require("common")

setup, response, done = bench.setup, bench.response, bench.done

local tokens, variants, lines, prefix
local sent = 0
local address = "12 Admiralty Way, Lekki Phase 1, Lagos"

function init(args)
   bench.init()
   tokens = bench.lines(args[1])
   variants = bench.lines(args[2])
   lines = tonumber(args[3] or "1")
   assert(lines <= #variants, "more lines than variants")
   -- Unique across threads and runs: start time, thread, a random number, a counter.
   prefix = string.format("bench-%d-%d-%d", os.time(), thread_number or 0, math.random(1, 2 ^ 30))
end

function request()
   sent = sent + 1
   local chosen, items = {}, {}
   while #items < lines do
      local id = variants[math.random(#variants)]
      if not chosen[id] then
         chosen[id] = true
         table.insert(items, string.format('{"variant_id": %s, "quantity": 1}', id))
      end
   end
   local body = string.format('{"items": [%s], "delivery_address": "%s"}',
      table.concat(items, ", "), address)
   local headers = bench.headers({
      Authorization = "Bearer " .. tokens[math.random(#tokens)],
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = prefix .. "-" .. sent,
   })
   return wrk.format("POST", "/api/v2/orders/", headers, body)
end
