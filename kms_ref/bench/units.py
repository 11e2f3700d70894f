"""How the benchmark reports print a duration: seconds, milliseconds or microseconds, 8 columns
wide, so that micro.py's and ciphers.py's tables line up. Shared by both, which otherwise do not
import each other."""


def fmt_seconds(seconds: float) -> str:
    if seconds >= 0.1:
        return "%8.3f s " % seconds
    if seconds >= 1e-3:
        return "%8.2f ms" % (seconds * 1e3)
    return "%8.1f µs" % (seconds * 1e6)
