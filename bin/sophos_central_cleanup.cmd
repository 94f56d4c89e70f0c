@echo off
rem The sophos_central_cleanup alert action on Windows (set alert.execute.cmd = sophos_central_cleanup.cmd
rem in local/alert_actions.conf). sophos_central.cmd finds Node 20+ and runs bin\app\sophos_central_cleanup.js;
rem arguments and stdin pass through unchanged.
setlocal
set "TA_SOPHOS_CENTRAL_ENTRY=sophos_central_cleanup"
call "%~dp0sophos_central.cmd" %*
exit /b %ERRORLEVEL%
