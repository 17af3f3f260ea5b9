-- GCRA decided by Redis (ratelimit/redis_gcra.h), mirroring ratelimit/gcra.cc.
-- KEYS[1] = key; ARGV[1] = T (emission interval, µs); ARGV[2] = tau (B * T, µs).
-- Returns {allowed, remaining, retry_after_us, reset_us}. Time is Redis's own.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
local new_tat = tat + interval
if new_tat - now <= tau then
  redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
  return {1, math.floor((tau - (new_tat - now)) / interval), 0, new_tat - now}
end
return {0, 0, new_tat - now - tau, tat - now}
