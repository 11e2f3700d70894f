"""The password from a file: TATUM_KMS_PASSWORD_FILE, or a systemd credential.

The safest sources on a server: the password is in no environment (which every child process
inherits and `/proc/PID/environ` shows) and in no command line.

- `TATUM_KMS_PASSWORD_FILE=/path`: the first line of that file. The file must be a regular file
  owned by the user kms_ref runs as and readable by nobody else (mode 0600 or stricter, as
  ssh insists on for its keys): a password that others can read is not kept secret, so
  kms_ref refuses it rather than use it.
- systemd credentials (systemd.exec(5), "Credentials"): a unit with
  `LoadCredential=tatum-kms-password:/etc/kms-ref/password` (or `LoadCredentialEncrypted=` with
  a file from `systemd-creds encrypt`) starts kms_ref with `$CREDENTIALS_DIRECTORY` set to a
  private, read-only directory holding the file `tatum-kms-password`. systemd makes that
  directory readable only by the unit's user (by ownership or by an ACL on a root-owned file),
  so the ownership and mode checks above do not apply there.

A trailing newline (what `echo` writes) is not part of the password; only the first line is.
"""

from __future__ import annotations

import os
import stat

from kms_ref.passwords.errors import SourceError

FILE_ENV = "TATUM_KMS_PASSWORD_FILE"
CREDENTIALS_DIRECTORY_ENV = "CREDENTIALS_DIRECTORY"      # set by systemd for LoadCredential=
CREDENTIAL_NAME = "tatum-kms-password"
MAX_SIZE = 64 * 1024                                     # a password file is one short line


def credential_path(environ=os.environ):
    """$CREDENTIALS_DIRECTORY/tatum-kms-password when systemd gave the unit that credential."""
    directory = environ.get(CREDENTIALS_DIRECTORY_ENV)
    if not directory:
        return None
    path = os.path.join(directory, CREDENTIAL_NAME)
    return path if os.path.exists(path) else None


def read_password_file(path: str) -> str:
    """The first line of `path`, a regular file of this user's that nobody else may read."""
    source = "%s %s" % (FILE_ENV, path)
    return _first_line(source, path, private=True)


def read_credential(path: str) -> str:
    """The first line of a systemd credential (systemd has made it private to this unit)."""
    return _first_line("systemd credential %s" % path, path, private=False)


def _first_line(source: str, path: str, private: bool) -> str:
    try:   # open first, then check what was opened: no window between the check and the read
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise SourceError(source, "cannot open it (%s)" % (e.strerror or type(e).__name__)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(source, "not a regular file")
        if private and info.st_uid != os.geteuid():
            raise SourceError(source, "owned by uid %d, not by this user (uid %d)"
                              % (info.st_uid, os.geteuid()))
        if private and info.st_mode & 0o077:
            raise SourceError(source, "mode %04o lets others read it; chmod 600 it"
                              % stat.S_IMODE(info.st_mode))
        if info.st_size > MAX_SIZE:
            raise SourceError(source, "larger than %d bytes: not a password file" % MAX_SIZE)
        data = os.read(fd, MAX_SIZE + 1)
    except OSError as e:
        raise SourceError(source, "cannot read it (%s)" % (e.strerror or type(e).__name__)) from None
    finally:
        os.close(fd)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(source, "not UTF-8 text") from None
    password = text.split("\n", 1)[0].rstrip("\r")
    if not password:
        raise SourceError(source, "its first line is empty")
    return password
