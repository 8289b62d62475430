-- wrk script: POST signed WeChat pushes, each with its own nonce, signature and MsgId.
-- The signed query strings are precomputed by bench/webhook_bench.py (sha1 is not in wrk's
-- Lua) into the file named by the BENCH_REQUESTS environment variable: one
-- "query<TAB>openid<TAB>content<TAB>msgid" per line. Threads take disjoint slices, so no nonce or
-- MsgId repeats within a round.

local requests = {}
local counter = 0
local thread_id = 0
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  thread_id = tonumber(id) or 0
  local step = tonumber(os.getenv("BENCH_THREADS") or "2")
  local n = 0
  for line in io.lines(os.getenv("BENCH_REQUESTS")) do
    if n % step == thread_id then
      local query, openid, content, msgid = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
      requests[#requests + 1] = {query, openid, content, msgid}
    end
    n = n + 1
  end
end

local BODY = "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
  .. "<FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime>"
  .. "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content>"
  .. "<MsgId>%s</MsgId></xml>"

function request()
  counter = counter + 1
  local r = requests[((counter - 1) % #requests) + 1]
  local body = string.format(BODY, r[2], os.time(), r[3], r[4])
  return wrk.format("POST", "/wechat?" .. r[1], {["Content-Type"] = "text/xml"}, body)
end
