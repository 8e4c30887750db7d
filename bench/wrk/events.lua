-- Batches of 100 events: 50 impressions of new visitors across the tests, and their 50 clicks.
-- MASTHEAD_PATH replaces the URL (the bare endpoint); MASTHEAD_DELAY_MS paces each connection.
local key = os.getenv("MASTHEAD_LOAD_KEY")
local path = os.getenv("MASTHEAD_PATH") or ("/v1/events?key=" .. key)
local delay_ms = tonumber(os.getenv("MASTHEAD_DELAY_MS") or "0")
local experiments = {}
for item in string.gmatch(os.getenv("MASTHEAD_LOAD_EXPERIMENTS"), "[^;]+") do
  local parts = {}
  for part in string.gmatch(item, "[^,]+") do parts[#parts + 1] = part end
  experiments[#experiments + 1] = parts
end
local threads = 0
local counter = 0

function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

function init(args)
  prefix = "t" .. thread_number .. "x" .. os.time() .. "-"
end

function request()
  counter = counter + 1
  local impressions, clicks = {}, {}
  for i = 1, 50 do
    local test = experiments[(i % #experiments) + 1]
    local fields = '"experiment_id":"' .. test[1] .. '","candidate_id":"' .. test[2 + (i % 2)]
                   .. '","visitor":"' .. prefix .. counter .. "-" .. i .. '"'
    impressions[i] = '{"type":"impression",' .. fields .. '}'
    clicks[i] = '{"type":"click",' .. fields .. '}'
  end
  local body = '{"events":[' .. table.concat(impressions, ",") .. "," .. table.concat(clicks, ",") .. "]}"
  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, body)
end

if delay_ms > 0 then
  function delay() return delay_ms end
end
