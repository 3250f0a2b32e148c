-- wrk script: each write carries DEPTH requests for the URL's path, back to back (HTTP/1.1
-- pipelining), so a server answers them as one batch. wrk counts every response, so its
-- Requests/sec is responses per second. DEPTH is 16 unless given after "--":
--   wrk -t1 -c256 -d10s -s pipeline.lua http://127.0.0.1:PORT/plaintext -- 16

local batch

function init(args)
  local depth = tonumber(args[1]) or 16
  local requests = {}
  for i = 1, depth do
    -- wrk.format with no arguments builds the request from the URL and -H headers.
    requests[i] = wrk.format()
  end
  batch = table.concat(requests)
end

function request()
  return batch
end
