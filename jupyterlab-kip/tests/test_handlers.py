"""jupyterlab_kip's handlers against a real server, a real kernel and the real kip."""

import json

import pytest
from tornado.httpclient import HTTPClientError


def body(r):
    return json.loads(r.body)


def ndjson(r):
    return [json.loads(line) for line in r.body.decode().splitlines() if line.strip()]


async def test_kernel_reports_env_and_doctor(jp_fetch, start_kernel, kernel_venv):
    kid = await start_kernel()
    v = body(await jp_fetch("kip", "kernel", kid))
    assert v["kernel_name"] == "analysis"
    assert v["prefix"] == str(kernel_venv), v
    assert v["kind"], v
    assert v["interpreter"], v
    assert "summary" in v["doctor"] and "findings" in v["doctor"], v
    # --no-start: kip started no kernel of its own
    assert not v["doctor"].get("starts"), v["doctor"]


async def test_unknown_kernel_is_404(jp_fetch, start_kernel):
    await start_kernel()
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("kip", "kernel", "00000000-0000-0000-0000-000000000000")
    assert e.value.code == 404


async def test_why_known_and_unknown_modules(jp_fetch, start_kernel, kernel_venv):
    kid = await start_kernel()
    v = body(await jp_fetch("kip", "why", kid, "yaml"))
    assert v["importable"] is False, v
    assert v["target"] == str(kernel_venv), v
    assert v["provided_by"] == "PyYAML", v
    # An unknown module's answer carries no installable distribution.
    v = body(await jp_fetch("kip", "why", kid, "kip_unknown_mod_zz"))
    assert v["importable"] is False, v
    assert v["provided_by"] is None and v["install"] is None, v


async def test_install_streams_and_the_module_imports(jp_fetch, start_kernel, kernel_venv):
    kid = await start_kernel()
    r = await jp_fetch("kip", "install", kid, method="POST", body=json.dumps({"name": "yaml"}))
    assert r.headers["Content-Type"].startswith("application/x-ndjson")
    lines = ndjson(r)
    assert any("event" in l for l in lines), lines
    assert "report" in lines[-1], lines
    report = lines[-1]["report"]
    assert report["ok"] is True, report
    assert report["target"]["prefix"] == str(kernel_venv), report
    assert [p["module"] for p in report["proof"] if p["ok"]] == ["yaml"], report
    v = body(await jp_fetch("kip", "why", kid, "yaml"))
    assert v["importable"] is True, v


async def test_unknown_module_is_never_installed(jp_fetch, start_kernel, kernel_venv):
    kid = await start_kernel()
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("kip", "install", kid, method="POST",
                       body=json.dumps({"name": "kip_unknown_mod_zz"}))
    assert e.value.code == 409
    assert body(e.value.response)["why"]["provided_by"] is None
    assert not list((kernel_venv / "lib").glob("python*/site-packages/kip_unknown_mod_zz*"))


@pytest.mark.parametrize(
    "name",
    ["https://evil.example/x.whl", "../x", "/tmp/x", "x[extra]", "x==1.0", "--index-url=x",
     "-e", "x y", "", "a;b", "x@https://e/x", ".hidden", "x..y", 3, None],
)
async def test_bad_names_get_400(jp_fetch, start_kernel, name):
    kid = await start_kernel()
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("kip", "install", kid, method="POST", body=json.dumps({"name": name}))
    assert e.value.code == 400, name


async def test_bad_module_in_why_gets_400(jp_fetch, start_kernel):
    kid = await start_kernel()
    for bad in ["x[extra]", "--help", "x==1", "a;b"]:
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch("kip", "why", kid, bad)
        assert e.value.code == 400, bad


async def test_every_endpoint_refuses_no_credentials(jp_fetch, start_kernel):
    kid = await start_kernel()
    none = {"Authorization": ""}
    for parts, kw in [
        (("kip", "kernel", kid), {}),
        (("kip", "why", kid, "yaml"), {}),
        (("kip", "install", kid), {"method": "POST", "body": json.dumps({"name": "yaml"})}),
    ]:
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch(*parts, headers=dict(none), **kw)
        assert e.value.code == 403, parts


async def test_cookie_post_needs_xsrf(jp_fetch, start_kernel, jp_serverapp):
    kid = await start_kernel()
    # A browser's login: the token in the URL once; the server answers with a login cookie.
    r = await jp_fetch("api", "status", params={"token": jp_serverapp.identity_provider.token},
                       headers={"Authorization": ""})
    cookies = [c.split(";", 1)[0] for c in r.headers.get_list("Set-Cookie")]
    login = [c for c in cookies if c.startswith("username-")]
    assert login, cookies
    cookie = {"Authorization": "", "Cookie": "; ".join(login)}
    # The cookie alone authenticates a GET...
    v = body(await jp_fetch("kip", "kernel", kid, headers=dict(cookie)))
    assert v["kernel_name"] == "analysis"
    # ...but not a POST without _xsrf.
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("kip", "install", kid, method="POST", body=json.dumps({"name": "x[y]"}),
                       headers=dict(cookie))
    assert e.value.code == 403
    # With the _xsrf cookie and header it reaches the handler (which refuses the bad name).
    xsrf = "kip-test-xsrf"
    with_xsrf = dict(cookie, **{"Cookie": cookie["Cookie"] + "; _xsrf=" + xsrf, "X-XSRFToken": xsrf})
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch("kip", "install", kid, method="POST", body=json.dumps({"name": "x[y]"}),
                       headers=with_xsrf)
    assert e.value.code == 400
