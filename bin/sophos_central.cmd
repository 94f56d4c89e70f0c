@echo off
rem splunkd runs this for the sophos_central modular input on Windows. It starts the bundled add-on with
rem %SPLUNK_HOME%\bin\node.exe when that is Node 20 or newer, otherwise with node.exe on PATH.
setlocal EnableDelayedExpansion
set "SCRIPT=%~dp0app\sophos_central.js"
rem The alert-action wrapper (sophos_central_cleanup.cmd) reuses this Node lookup for its own bundle.
if "%TA_SOPHOS_CENTRAL_ENTRY%"=="sophos_central_cleanup" set "SCRIPT=%~dp0app\sophos_central_cleanup.js"
set "NODE="
if defined SPLUNK_HOME if exist "%SPLUNK_HOME%\bin\node.exe" call :check "%SPLUNK_HOME%\bin\node.exe"
if not defined NODE for %%N in (node.exe) do if not "%%~$PATH:N"=="" call :check "%%~$PATH:N"
if not defined NODE (
  echo ERROR TA-sophos-central: Node.js 20 or newer is required, but none was found in %%SPLUNK_HOME%%\bin or on PATH. Install Node.js 20+ on this host. 1>&2
  exit /b 1
)
rem 4 MB semi-spaces keep the peak RSS of a large collection about 25 MB lower (see sophos_central.sh).
"%NODE%" --max-semi-space-size=4 "%SCRIPT%" %*
exit /b %ERRORLEVEL%

:check
set "MAJOR="
for /f "tokens=1 delims=." %%V in ('"%~1" --version 2^>nul') do set "MAJOR=%%V"
if not defined MAJOR exit /b 0
set "MAJOR=!MAJOR:v=!"
if !MAJOR! GEQ 20 set "NODE=%~1"
exit /b 0
