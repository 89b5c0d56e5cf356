-- wrk script for bench/ledger: random transfers, batches, balance reads and balance-at
-- reads, built in wrk's LuaJIT so the load tool costs a few percent of a core, not a Python
-- process's worth. bench/ledger/__init__.py writes ``bench-params-<mode>.lua`` next to the run
-- (accounts, token, mode, pacing) and passes its path as the script argument.

local params = {}
local thread_no = 0

function setup(thread)
  thread_no = thread_no + 1
  thread:set("thread_no", thread_no)
end

function init(args)
  params = dofile(args[1])
  math.randomseed(params.seed + (thread_no or 0) * 7919)
  key_prefix = string.format("wrk-%d-%d-%d-%d-", params.seed, os.time(), thread_no or 0, math.random(1e9))
  counter = 0
  wrk.headers["Authorization"] = "Bearer " .. params.token
  wrk.headers["Content-Type"] = "application/json"
end

-- Payers uniform; payees by Zipf's law (s = 1: rank k drawn in proportion to 1/k, the
-- merchants are hot) unless ``params.hot`` restricts both to the first ``hot`` accounts,
-- drawn uniformly (the 200-hot-account case).
local cumulative = nil

local function zipf_index(n)
  if cumulative == nil then
    cumulative = {}
    local total = 0
    for k = 1, n do
      total = total + 1 / k
      cumulative[k] = total
    end
  end
  local draw = math.random() * cumulative[n]
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cumulative[mid] < draw then lo = mid + 1 else hi = mid end
  end
  return lo
end

local function pair()
  local n = #params.accounts
  if params.hot then n = math.min(n, params.hot) end
  local a = math.random(n)
  local b
  repeat
    if params.zipf and not params.hot then b = zipf_index(n) else b = math.random(n) end
  until b ~= a
  return params.accounts[a], params.accounts[b]
end

local function transfer()
  local source, dest = pair()
  return '{"postings":[{"account_id":"' .. source .. '","currency":"' .. params.currency ..
    '","amount":-1},{"account_id":"' .. dest .. '","currency":"' .. params.currency ..
    '","amount":1}]}'
end

local function instant()
  -- a random instant inside the hot account's history, with microseconds
  local t = params.from + math.random() * (params.to - params.from)
  local whole = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%06dZ", math.floor((t - whole) * 1e6))
end

function request()
  counter = counter + 1
  local mode = params.mode
  if mode == "single" then
    wrk.headers["Idempotency-Key"] = key_prefix .. counter
    return wrk.format("POST", "/transactions", nil, transfer())
  elseif mode == "batch" then
    local items = {}
    for i = 1, params.batch do items[i] = transfer() end
    wrk.headers["Idempotency-Key"] = key_prefix .. counter
    return wrk.format("POST", "/batches", nil, '{"mode":"atomic","items":[' .. table.concat(items, ",") .. ']}')
  elseif mode == "balance_at" then
    return wrk.format("GET", "/accounts/" .. params.hot .. "/balance?at=" .. instant())
  else
    return wrk.format("GET", "/accounts/" .. params.accounts[math.random(#params.accounts)] .. "/balance")
  end
end

-- Pacing for the half-peak run: each connection waits a random think time of mean
-- ``params.delay_ms`` before each request (wrk2's constant-rate mode is not packaged in
-- Debian), drawn from an exponential distribution so that the connections arrive as
-- independent clients would (Poisson arrivals). A constant wait made all connections
-- fire together after the first round and stay in step: bursts of CLIENTS simultaneous
-- requests then silence, which measured the peak's queueing, not half the rate. The
-- achieved rate is measured and reported, not assumed.
function delay()
  local mean = params.delay_ms or 0
  if mean <= 0 then return 0 end
  return math.floor(-mean * math.log(1 - math.random()) + 0.5)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
