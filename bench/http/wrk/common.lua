-- Shared by the scenario scripts: every answer is counted by status (non-2xx answers are
-- errors and void a figure) and done() prints one line the runner reads:
--   BENCH_RESULT {"requests": ..., "p50_us": ..., "statuses": {"200": ...}, ...}
local M = {}

local threads = {}

function M.setup(thread)
   table.insert(threads, thread)
   thread:set("thread_number", #threads)
end

function M.init()
   statuses = {}
   -- Each thread has its own Lua state and random stream.
   math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919 + math.floor(os.clock() * 1e6))
   for _ = 1, 10 do math.random() end
end

function M.response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function M.lines(path)
   local items = {}
   for line in io.lines(path) do
      if line ~= "" then table.insert(items, line) end
   end
   assert(#items > 0, "no lines in " .. path)
   return items
end

-- wrk.headers (the -H options) plus extra ones; wrk.format does not merge them itself.
function M.headers(extra)
   local h = {}
   for k, v in pairs(wrk.headers) do h[k] = v end
   for k, v in pairs(extra or {}) do h[k] = v end
   return h
end

function M.done(summary, latency, requests)
   local total, non2xx, parts = {}, 0, {}
   for _, thread in ipairs(threads) do
      local counts = thread:get("statuses") or {}
      for status, n in pairs(counts) do
         total[status] = (total[status] or 0) + n
      end
   end
   for status, n in pairs(total) do
      if status < 200 or status > 299 then non2xx = non2xx + n end
      table.insert(parts, string.format('"%d": %d', status, n))
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"p50_us": %.0f, "p90_us": %.0f, "p99_us": %.0f, "mean_us": %.1f, "max_us": %.0f, '
         .. '"non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, '
         .. '"statuses": {%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.mean, latency.max,
      non2xx, e.connect, e.read, e.write, e.timeout,
      table.concat(parts, ", ")))
end

return M
