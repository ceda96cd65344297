# kip's fixed interpreter probe (schema 1). Must stay valid on Python 2.7 and 3.6+.
# It imports only the stdlib and runs no package code: pip, ipykernel, IPython and uv are
# located with importlib.util.find_spec (imp.find_module on 2.7), never imported.
# kip runs it as `<python> -c <this>` from an empty temp dir; the '' entry that -c puts first
# on sys.path is removed before anything else is imported, so no local json.py can answer.
import sys
if sys.path and sys.path[0] in ('', '.'):
    del sys.path[0]
import os
import json
import binascii

PY3 = sys.version_info[0] >= 3


def P(s):
    """A path for JSON: text when it is valid UTF-8, else {"hex": raw bytes}."""
    if s is None:
        return None
    if PY3:
        if isinstance(s, bytes):
            raw = s
        else:
            try:
                s.encode('utf-8')
                return s
            except UnicodeError:
                raw = os.fsencode(s)
        try:
            return raw.decode('utf-8')
        except UnicodeError:
            return {'hex': binascii.hexlify(raw).decode('ascii')}
    if isinstance(s, unicode):  # noqa: F821 (Python 2 only)
        return s
    try:
        return s.decode('utf-8')
    except UnicodeError:
        return {'hex': binascii.hexlify(s)}


def T(s):
    """Text for display: undecodable bytes replaced."""
    if s is None:
        return None
    if PY3:
        if isinstance(s, bytes):
            return s.decode('utf-8', 'replace')
        return s.encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')
    if isinstance(s, unicode):  # noqa: F821
        return s
    return s.decode('utf-8', 'replace')


def origin(name):
    try:
        import importlib.util as iu
        find_spec = iu.find_spec
    except (ImportError, AttributeError):
        find_spec = None
    if find_spec is not None:
        try:
            spec = find_spec(name)
        except Exception:
            return None
        if spec is None:
            return None
        if spec.origin and spec.origin != 'namespace':
            return T(spec.origin)
        locs = list(spec.submodule_search_locations or [])
        return T(locs[0]) if locs else ''
    try:
        import imp
        f, path, _ = imp.find_module(name)
        if f is not None:
            f.close()
        return T(path)
    except Exception:
        return None


user_base = user_site = None
enable_user_site = False
site_packages = []
try:
    import site
    if hasattr(site, 'getuserbase'):
        user_base = site.getuserbase()
    else:
        user_base = getattr(site, 'USER_BASE', None)
    if hasattr(site, 'getusersitepackages'):
        user_site = site.getusersitepackages()
    else:
        user_site = getattr(site, 'USER_SITE', None)
    enable_user_site = getattr(site, 'ENABLE_USER_SITE', False)
    if hasattr(site, 'getsitepackages'):
        site_packages = list(site.getsitepackages())
except Exception:
    pass

stdlib = scripts = None
free_threaded = False
try:
    import sysconfig
    stdlib = sysconfig.get_path('stdlib')
    scripts = sysconfig.get_path('scripts')
    free_threaded = bool(sysconfig.get_config_var('Py_GIL_DISABLED'))
except Exception:
    pass

base_prefix = getattr(sys, 'real_prefix', None) or getattr(sys, 'base_prefix', sys.prefix)
marker = None
# PEP 668 never applies inside a virtual environment (pip's check_externally_managed).
if stdlib and base_prefix == sys.prefix:
    candidate = os.path.join(stdlib, 'EXTERNALLY-MANAGED')
    if os.path.isfile(candidate):
        marker = candidate

implementation = getattr(getattr(sys, 'implementation', None), 'name', None)
if not implementation:
    import platform
    implementation = platform.python_implementation().lower()


def full_version(info):
    # packaging.markers.format_full_version
    text = '%d.%d.%d' % (info[0], info[1], info[2])
    if info[3] != 'final':
        text += info[3][0] + str(info[4])
    return text


# The PEP 508 marker environment, as packaging.markers.default_environment() builds it, so
# kip can evaluate a distribution's Requires-Dist markers for this interpreter.
markers = None
try:
    import platform
    impl = getattr(sys, 'implementation', None)
    markers = {
        'implementation_name': implementation,
        'implementation_version': full_version(impl.version) if impl else '0',
        'os_name': os.name,
        'platform_machine': platform.machine(),
        'platform_python_implementation': platform.python_implementation(),
        'platform_release': platform.release(),
        'platform_system': platform.system(),
        'platform_version': platform.version(),
        'python_full_version': platform.python_version(),
        'python_version': '.'.join(platform.python_version_tuple()[:2]),
        'sys_platform': sys.platform,
    }
except Exception:
    pass

v = sys.version_info
answer = {
    'executable': P(sys.executable),
    'version': [v[0], v[1], v[2]],
    'implementation': implementation,
    'prefix': P(sys.prefix),
    'base_prefix': P(base_prefix),
    'sys_path': [P(p) for p in sys.path if p],
    'site_packages': [P(p) for p in site_packages],
    'user_base': P(user_base),
    'user_site': P(user_site),
    'enable_user_site': enable_user_site,
    'stdlib': P(stdlib),
    'scripts': P(scripts),
    'externally_managed': P(marker),
    'free_threaded': free_threaded,
    'found': dict((m, origin(m)) for m in ('pip', 'ipykernel', 'IPython', 'uv')),
    'markers': markers,
}
# A sitecustomize may have printed already: kip reads only the last line with this tag.
sys.stdout.write('\nKIP-PROBE-1 ' + json.dumps(answer) + '\n')
sys.stdout.flush()
