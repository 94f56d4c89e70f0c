@echo off
rem splunkd runs this for the sophos_central modular input on Windows. It starts the bundled add-on with
rem %SPLUNK_HOME%\bin\node.exe when that is Node 20 or newer, otherwise with node.exe on PATH.
setlocal EnableDelayedExpansion
set "SCRIPT=%~dp0app\sophos_central.js"
rem The alert-action wrapper (sophos_central_cleanup.cmd) reuses this Node lookup for its own bundle.
if "%TA_SOPHOS_CENTRAL_ENTRY%"=="sophos_central_cleanup" set "SCRIPT=%~dp0app\sophos_central_cleanup.js"
rem A broken install would otherwise leave Node's stack trace, without a severity, in splunkd.log. !SCRIPT!, expanded
rem when run, not when the block is read: a ) in the path (C:\Program Files (x86)) would end the block early.
if not exist "%SCRIPT%" (
  echo ERROR TA-sophos-central: !SCRIPT! is missing: reinstall the add-on. 1>&2
  exit /b 1
)
rem The V8 settings of sophos_central.sh, which says why.
set "HEAP_FLAGS=--max-semi-space-size=4 --heap-growing-percent=175 --initial-old-space-size=48"
set "START_FLAGS=--always-sparkplug"
set "NODE="
set "SEEN="
if defined SPLUNK_HOME if exist "%SPLUNK_HOME%\bin\node.exe" call :check "%SPLUNK_HOME%\bin\node.exe"
if not defined NODE for %%N in (node.exe) do if not "%%~$PATH:N"=="" call :check "%%~$PATH:N"
if not defined NODE (
  if defined SEEN echo ERROR TA-sophos-central: Node.js 20 or newer is required, but found only:!SEEN! Install Node.js 20+ on this host. 1>&2
  if not defined SEEN echo ERROR TA-sophos-central: Node.js 20 or newer is required, but none was found in %%SPLUNK_HOME%%\bin or on PATH. Install Node.js 20+ on this host. 1>&2
  exit /b 1
)
if not defined FLAGS echo WARN TA-sophos-central: %NODE% does not accept %HEAP_FLAGS%; running without them, which uses more memory. 1>&2
"%NODE%" %FLAGS% "%SCRIPT%" %*
exit /b %ERRORLEVEL%

rem Sets NODE (and FLAGS) when %1 is Node 20 or newer, and adds it to SEEN otherwise. Node rejects an option its
rem V8 lacks even with --version, so the probes also tell which settings it accepts: all, the heap settings only,
rem or none. "call" keeps the quotes of a path with parentheses, such as C:\Program Files (x86),
rem which cmd /c would otherwise strip from the probe.
:check
set "MAJOR="
set "FLAGS="
for /f "tokens=1 delims=." %%V in ('call "%~1" %HEAP_FLAGS% %START_FLAGS% --version 2^>nul') do set "MAJOR=%%V"
if defined MAJOR set "FLAGS=%HEAP_FLAGS% %START_FLAGS%"
if not defined MAJOR for /f "tokens=1 delims=." %%V in ('call "%~1" %HEAP_FLAGS% --version 2^>nul') do set "MAJOR=%%V"
if defined MAJOR if not defined FLAGS set "FLAGS=%HEAP_FLAGS%"
if not defined MAJOR for /f "tokens=1 delims=." %%V in ('call "%~1" --version 2^>nul') do set "MAJOR=%%V"
if not defined MAJOR exit /b 0
set "MAJOR=!MAJOR:v=!"
if !MAJOR! GEQ 20 (set "NODE=%~1") else set "SEEN=!SEEN! %~1 is v!MAJOR!;"
exit /b 0
