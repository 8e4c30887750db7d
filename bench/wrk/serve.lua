-- A front page: the same 20 articles, a new visitor per request.
-- MASTHEAD_PATH replaces the URL (the bare endpoint); MASTHEAD_DELAY_MS paces each connection.
local ids, key = os.getenv("MASTHEAD_LOAD_IDS"), os.getenv("MASTHEAD_LOAD_KEY")
local fixed_path = os.getenv("MASTHEAD_PATH")
local delay_ms = tonumber(os.getenv("MASTHEAD_DELAY_MS") or "0")
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
  local path = fixed_path or ("/v1/serve/headlines?articles=" .. ids .. "&visitor=" .. prefix .. counter
                              .. "&key=" .. key)
  return wrk.format("GET", path)
end

if delay_ms > 0 then
  function delay() return delay_ms end
end
