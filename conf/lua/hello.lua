-- hello.lua: the smallest httpdg Lua handler.
--
-- conf/httpd.conf maps it to /hello:
--
--     LuaMapHandler ^/hello$ conf/lua/hello.lua handle
--
-- handle(r) gets mod_lua's request object r and returns apache2.OK, another
-- apache2.* code, or an HTTP status (see docs/lua.md).

function handle(r)
    r.content_type = "text/plain"
    r:puts("hello, world\n")
    return apache2.OK
end
