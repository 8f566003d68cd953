/**
 * The Lua every stream append of the answering path goes through: XADD, then the new entry published on
 * its conversation shard's channel (SPUBLISH, same hash tag as the stream, so the pair stays in one slot
 * on a Redis Cluster), so that gateways learn of it without reading (see reply-hub.ts). The message is
 * `key \n id \n field \n value …`: no field value of these streams holds a newline (types, ids, numbers
 * and JSON text, which escapes its newlines).
 */
export const APPEND_ENTRY_LUA = `
local function appendEntry(key, channel, maxlen, fields)
  local id
  if maxlen > 0 then
    id = redis.call('XADD', key, 'MAXLEN', '~', maxlen, '*', unpack(fields))
  else
    id = redis.call('XADD', key, '*', unpack(fields))
  end
  redis.call('SPUBLISH', channel, key .. '\\n' .. id .. '\\n' .. table.concat(fields, '\\n'))
  return id
end
`;
