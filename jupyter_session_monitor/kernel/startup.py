# The start-up file (PYTHONSTARTUP) that jupyter_session_monitor's server extension gives its
# kernels: it installs the session hook, then runs the user's own start-up file if there was one.
# It runs in the kernel's user namespace, so it leaves no names behind.


def _jupyter_session_monitor_startup() -> None:
    import os
    import sys

    if "ipykernel" in sys.modules:
        try:
            from jupyter_session_monitor.kernel import install
        except Exception as error:  # another environment's kernel without the package
            print(f"jupyter-session-monitor: not active in this kernel ({error})", file=sys.stderr)
        else:
            install()
            # The %%session / %session magics. Not through the extension manager, so that a
            # notebook's own `%load_ext jupyter_session_monitor` (which it needs to run headless,
            # in a kernel no such server started) runs quietly here instead of saying "already
            # loaded": loading again only registers the same magics again.
            try:
                from jupyter_session_monitor.kernel import load_ipython_extension

                load_ipython_extension(get_ipython())  # type: ignore[name-defined]  # noqa: F821
            except Exception as error:
                print(f"jupyter-session-monitor: magics not loaded ({error})", file=sys.stderr)
    user_startup = os.environ.get("JUPYTER_SESSION_MONITOR_USER_STARTUP")
    if user_startup and os.path.isfile(user_startup):
        with open(user_startup) as source:
            code = compile(source.read(), user_startup, "exec")
        exec(code, sys.modules["__main__"].__dict__)  # noqa: S102 (the user's own start-up file)


_jupyter_session_monitor_startup()
del _jupyter_session_monitor_startup
