-- startup_log.lua: the server life cycle, logged.
--
-- The Lua version of the StartupLog example from mod_perl's "Server Life
-- Cycle" chapter (the Go version is modules/startuplog). Each handler
-- appends one line to logs/startup_log, so you can watch the order in which
-- httpdg runs the phases (SPEC section 3):
--
--     LuaHookOpenLogs    conf/lua/startup_log.lua open_logs
--     LuaHookPostConfig  conf/lua/startup_log.lua post_config
--     LuaHookChildInit   conf/lua/startup_log.lua child_init
--     LuaHookChildExit   conf/lua/startup_log.lua child_exit
--
-- With StartServers 4, `httpdg -k start` then `httpdg -k stop` logs:
--
--     open_logs, post_config     restart_count 1: the preflight, generation 0
--     open_logs, post_config     restart_count 2: generation 1, the one that serves
--     4 x child_init             one per child
--     4 x child_exit
--
-- open_logs and post_config run in the master; child_init and child_exit
-- run in each child. A child is a fresh process: the file the master opened
-- does not cross into it (nor does any other Lua variable), so child_init
-- opens the file again for its own process.

local log_path = httpdg.server_root() .. "/logs/startup_log"
local log_fh -- this process's handle on log_path, or nil

local days = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" }
local months = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" }

-- ctime returns the time as Perl's scalar(localtime) writes it:
-- "Sun Jun  6 01:50:06 2004".
local function ctime()
    local t = os.date("*t")
    return string.format("%s %s %2d %02d:%02d:%02d %d",
        days[t.wday], months[t.month], t.day, t.hour, t.min, t.sec, t.year)
end

-- open_log opens log_path for appending and registers its closing on pool
-- p, so the file is closed when p is cleared or destroyed.
local function open_log(p)
    if io == nil then
        return false, "the io library is not available to this hook"
    end
    local fh, err = io.open(log_path, "a")
    if fh == nil then
        return false, err
    end
    log_fh = fh
    p:cleanup_register(function()
        fh:close()
        if log_fh == fh then
            log_fh = nil
        end
    end)
    return true
end

-- say writes one line in the seed's layout: "[<ctime>] - <phase>: <msg>",
-- the phase padded to 11 characters, with a single write so that lines of
-- several processes appending to the file do not mix.
local function say(phase, msg)
    local line = string.format("[%s] - %-11s: %s\n", ctime(), phase, msg)
    if log_fh == nil then
        httpdg.log("warn", "startup_log is not open: " .. line)
        return
    end
    log_fh:write(line)
    log_fh:flush()
end

-- open_logs(pconf, plog, ptemp, s): in the master, once per generation
-- (and once for the preflight of a start). The file stays open for the
-- generation: pconf closes it at the next restart.
function open_logs(pconf, plog, ptemp, s)
    s:warn("opening the log file: " .. log_path)
    local ok, err = open_log(pconf)
    if not ok then
        error("can't open " .. log_path .. ": " .. tostring(err))
    end
    say("open_logs", string.format("process %d is born to reproduce", httpdg.pid()))
    return apache2.OK
end

-- post_config(pconf, plog, ptemp, s): in the master, after open_logs.
function post_config(pconf, plog, ptemp, s)
    s:info(string.format("configuration is completed (restart_count %d, generation %d)",
        httpdg.restart_count(), httpdg.generation()))
    say("post_config", "configuration is completed")
    return apache2.OK
end

-- child_init(pchild, s): in each child, before it serves. The file is
-- closed when pchild is destroyed, after child_exit.
function child_init(pchild, s)
    if log_fh == nil then
        local ok, err = open_log(pchild)
        if not ok then
            error("can't open " .. log_path .. ": " .. tostring(err))
        end
    end
    say("child_init", string.format("process %d is born to serve", httpdg.pid()))
    return apache2.OK
end

-- child_exit(pchild, s): in each child, as it leaves.
function child_exit(pchild, s)
    say("child_exit", string.format("process %d now exits", httpdg.pid()))
    return apache2.OK
end
