"""The REST handlers under ``<base_url>/kip/``.

Every handler requires an authenticated user and authorization on the ``kernels`` resource
(reading for the queries, executing for an install: an install runs code in the kernel's
environment). They are jupyter_server ``APIHandler``s, so a cookie-authenticated POST without
the ``_xsrf`` token is refused before it reaches us.
"""

import asyncio
import json
import re
import sys

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web
from tornado.iostream import StreamClosedError

from . import runner

#: A module name (`cv2`, `google.protobuf`) or a bare distribution name (`opencv-python`):
#: letters, digits, `_`, `.` and `-`, starting and ending with a letter, digit or `_`. No URL,
#: path, extra, version specifier or option can match.
NAME = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]{0,198}[A-Za-z0-9_])?$")

_KERNEL_ID = r"(?P<kernel_id>[\w-]+)"


def valid_name(name):
    return isinstance(name, str) and NAME.match(name) is not None and ".." not in name


class KipHandler(APIHandler):
    auth_resource = "kernels"

    def kernel(self, kernel_id):
        """The server's kernel manager entry for KERNEL_ID (404 when there is none)."""
        if kernel_id not in self.kernel_manager:
            raise web.HTTPError(404, "no running kernel %s" % kernel_id)
        return self.kernel_manager.get_kernel(kernel_id)

    def require_python(self, km):
        language = (km.kernel_spec.language or "").lower() if km.kernel_spec else ""
        if language != "python":
            raise web.HTTPError(
                400, "kernel %s runs %s, not Python" % (km.kernel_name, language or "an unknown language")
            )

    async def target(self, km):
        """kip's TARGET flags for this kernel, as this server sees it. The one switch point:
        `--kernel-pid` (the process the server started) when this kip has it, else the
        kernelspec name; always with `--jupyter` the server's own Python, so kip reads the
        kernelspecs this server reads."""
        pid = getattr(km.provisioner, "pid", None) if km.provisioner else None
        if pid and await runner.supports("why", "--kernel-pid"):
            flags = ["--kernel-pid", str(pid)]
        else:
            flags = ["--kernel", km.kernel_name]
        return flags + ["--jupyter", sys.executable]

    async def kip_json(self, args, timeout=runner.QUERY_TIMEOUT):
        try:
            return await runner.run_json(args, timeout)
        except runner.KipError as e:
            raise web.HTTPError(502, str(e))


class KernelHandler(KipHandler):
    """GET kernel/<kernel_id>: the kernel's environment (kind, prefix, interpreter) and its
    doctor findings (never starting a kernel)."""

    @web.authenticated
    @authorized("read")
    async def get(self, kernel_id):
        km = self.kernel(kernel_id)
        target = await self.target(km)
        jupyter = ["--jupyter", sys.executable]
        _, show = await self.kip_json(["kernel", "show", km.kernel_name] + jupyter)
        _, doctor = await self.kip_json(["doctor", "--no-start"] + target)
        env = show.get("environment") or {}
        interp = show.get("interpreter") or {}
        self.finish(
            json.dumps(
                {
                    "kernel_id": kernel_id,
                    "kernel_name": km.kernel_name,
                    "display_name": (show.get("spec") or {}).get("display_name"),
                    "language": km.kernel_spec.language if km.kernel_spec else None,
                    "kind": env.get("kind"),
                    "prefix": env.get("prefix"),
                    "version": env.get("version"),
                    "interpreter": interp.get("python"),
                    "kernel": show,
                    "doctor": doctor,
                }
            )
        )


class WhyHandler(KipHandler):
    """GET why/<kernel_id>/<module>: kip's `why` answer for the module in the kernel's env."""

    @web.authenticated
    @authorized("read")
    async def get(self, kernel_id, module):
        if not valid_name(module):
            raise web.HTTPError(400, "not a module name: %r" % module)
        km = self.kernel(kernel_id)
        self.require_python(km)
        _, why = await self.kip_json(["why", module] + await self.target(km))
        self.finish(json.dumps(why))


class InstallHandler(KipHandler):
    """POST install/<kernel_id> with {"name": MODULE_OR_DISTRIBUTION}: install into exactly
    the kernel's env, streaming newline-delimited JSON: `{"event": …}` lines while it runs,
    then one `{"report": …}` line (kip install --json's report).

    Only a distribution kip knows is installed (its table of import names, or metadata in
    another env here, as `kip why` reports it in `provided_by`); any other name gets 409 with
    the `why` answer, so no request turns an unknown name into a PyPI install."""

    @web.authenticated
    @authorized("execute")
    async def post(self, kernel_id):
        try:
            body = json.loads(self.request.body or b"null")
        except ValueError:
            raise web.HTTPError(400, "the body is not JSON")
        name = body.get("name") if isinstance(body, dict) else None
        if not valid_name(name):
            raise web.HTTPError(
                400, "\"name\" must be a module or bare distribution name (no URL, path, extra, version or option)"
            )
        km = self.kernel(kernel_id)
        self.require_python(km)
        target = await self.target(km)
        _, why = await self.kip_json(["why", name] + target)
        if why.get("importable"):
            self.set_status(409)
            self.finish(json.dumps({"message": "%s is already importable" % name, "why": why}))
            return
        if not why.get("provided_by"):
            self.set_status(409)
            self.finish(
                json.dumps(
                    {
                        "message": "kip knows no distribution that provides %s; nothing was installed" % name,
                        "why": why,
                    }
                )
            )
            return
        await self.stream_install(name, target)

    async def stream_install(self, name, target):
        self.set_header("Content-Type", "application/x-ndjson")
        self.set_header("Cache-Control", "no-cache")
        stream = await runner.supports("install", "--json-stream")
        args = ["install", name] + target + (["--json-stream"] if stream else ["--json"])
        try:
            proc = await runner.start(args)
        except runner.KipError as e:
            raise web.HTTPError(502, str(e))

        async def send(obj):
            self.write(json.dumps(obj) + "\n")
            try:
                await self.flush()
            except StreamClosedError:
                pass

        async def pump_stderr():
            async for line in proc.stderr:
                text = line.decode("utf-8", "replace").rstrip("\n")
                if text and not stream:
                    await send({"event": {"kind": "output", "line": text}})

        async def pump_stdout():
            chunks = []
            async for line in proc.stdout:
                if stream:
                    text = line.decode("utf-8", "replace").strip()
                    if text:
                        self.write(text + "\n")
                        try:
                            await self.flush()
                        except StreamClosedError:
                            pass
                else:
                    chunks.append(line)
            return b"".join(chunks)

        try:
            _, out = await asyncio.wait_for(
                asyncio.gather(pump_stderr(), pump_stdout()), runner.INSTALL_TIMEOUT
            )
            await proc.wait()
        except asyncio.TimeoutError:
            runner.kill_group(proc)
            await proc.wait()
            await send({"error": "kip install timed out after %d s" % runner.INSTALL_TIMEOUT})
            self.finish()
            return
        if not stream:
            try:
                await send({"report": json.loads(out.decode("utf-8", "replace"))})
            except ValueError:
                await send({"error": "kip install exited with %s and printed no report: %r" % (proc.returncode, out[:300])})
        self.finish()


def setup_handlers(web_app):
    base = url_path_join(web_app.settings["base_url"], "kip")
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "kernel", _KERNEL_ID), KernelHandler),
            (url_path_join(base, "why", _KERNEL_ID, r"(?P<module>[^/]+)"), WhyHandler),
            (url_path_join(base, "install", _KERNEL_ID), InstallHandler),
        ],
    )
