-- GET the URL given to wrk (e.g. /api/v2/products/?limit=20), counting statuses.
package.path = (os.getenv("BENCH_WRK_DIR") or ".") .. "/?.lua;" .. package.path
local bench = require("common")

setup, response, done = bench.setup, bench.response, bench.done

function init(args)
   bench.init()
end
