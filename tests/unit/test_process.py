"""Commands run from argv lists, with timeouts and typed failures."""

import sys

import pytest

from xsovs_common.errors import Error
from xsovs_common.system import process


def test_output_is_text():
    result = process.run([sys.executable, "-c", "print('hi')"])
    assert result.stdout == "hi\n" and result.returncode == 0


def test_no_shell_interpretation():
    result = process.run([sys.executable, "-c", "import sys; print(sys.argv[1])", "$(id); ls *"])
    assert result.stdout == "$(id); ls *\n"


def test_failure_carries_command_and_status():
    with pytest.raises(process.CommandError) as info:
        process.run([sys.executable, "-c", "import sys; sys.stderr.write('bad\\n'); sys.exit(3)"])
    assert info.value.returncode == 3
    assert info.value.argv[0] == sys.executable
    assert "bad" in info.value.message


def test_unchecked_failure_returns_result():
    result = process.run([sys.executable, "-c", "import sys; sys.exit(4)"], check=False)
    assert result.returncode == 4


def test_timeout():
    with pytest.raises(process.CommandTimeout):
        process.run([sys.executable, "-c", "import time; time.sleep(10)"], timeout=0.3)


def test_missing_program():
    with pytest.raises(process.CommandError) as info:
        process.run(["/nonexistent/program"])
    assert info.value.returncode == -1


def test_input_is_passed():
    result = process.run([sys.executable, "-c", "import sys; print(sys.stdin.read().upper())"],
                         input="abc")
    assert result.stdout == "ABC\n"


def test_every_command_is_logged(capsys):
    """The issue asks for each command in the log: it is the host's record of what ran."""
    from xsovs_common import log
    saved = list(log.log.handlers), log.log.level
    log.setup("test-process", use_syslog=False)
    try:
        process.run([sys.executable, "-c", "pass", "an argument"])
    finally:
        log.log.handlers[:], _ = saved
        log.log.setLevel(saved[1])
    assert "running %s -c pass an argument" % sys.executable in capsys.readouterr().err


def test_control_script_failure_names_command_status_and_last_line(tmp_path):
    """ovs-ctl and ovn-ctl run through one helper: the script, its command, its last line."""
    script = tmp_path / "ovn-ctl"
    script.write_text("#!/bin/sh\necho \"starting $2 with $1\"\necho 'no database' >&2\n"
                      "[ \"$2\" = start_controller ] && exit 5\nexit 0\n")
    script.chmod(0o755)

    class ScriptError(Error):
        code = "SCRIPT_FAILED"

    with pytest.raises(ScriptError) as info:
        process.run_script(str(script), "start_controller", ["--opt"], ScriptError)
    assert info.value.error_description() == [
        "SCRIPT_FAILED", "start_controller", "5", "no database",
        "ovn-ctl start_controller failed (exit status 5): no database"]
    result = process.run_script(str(script), "stop_controller", ["--opt"], ScriptError)
    assert result.stdout == "starting stop_controller with --opt\n"
