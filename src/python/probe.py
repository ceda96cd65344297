# kip's fixed interpreter probe. Valid on Python 2.7 and 3.6+. Imports nothing from the
# environment beyond the stdlib and runs no package code (find_spec / imp.find_module only).
import sys, os, json
if sys.path and sys.path[0] in ('', '.'):
    sys.path.pop(0)
try:
    import site
    user_base = site.getuserbase() if hasattr(site, 'getuserbase') else getattr(site, 'USER_BASE', None)
    user_site = site.getusersitepackages() if hasattr(site, 'getusersitepackages') else getattr(site, 'USER_SITE', None)
    enable_user_site = bool(getattr(site, 'ENABLE_USER_SITE', False))
    site_packages = site.getsitepackages() if hasattr(site, 'getsitepackages') else []
except Exception:
    user_base, user_site, enable_user_site, site_packages = None, None, False, []
try:
    import sysconfig
    stdlib = sysconfig.get_path('stdlib')
    scripts = sysconfig.get_path('scripts')
except Exception:
    stdlib, scripts = None, None
def found(name):
    try:
        import importlib.util
        spec = importlib.util.find_spec(name)
        return None if spec is None else (spec.origin or (list(spec.submodule_search_locations or []) or [''])[0])
    except ImportError:
        try:
            import imp
            return imp.find_module(name)[1]
        except ImportError:
            return None
    except Exception:
        return None
em = None
if stdlib and getattr(sys, 'base_prefix', sys.prefix) == sys.prefix:
    p = os.path.join(stdlib, 'EXTERNALLY-MANAGED')
    if os.path.isfile(p):
        em = p
v = sys.version_info
out = {
    'executable': sys.executable,
    'version': [v[0], v[1], v[2]],
    'implementation': getattr(getattr(sys, 'implementation', None), 'name', 'cpython'),
    'prefix': sys.prefix,
    'base_prefix': getattr(sys, 'base_prefix', getattr(sys, 'real_prefix', sys.prefix)),
    'sys_path': [p for p in sys.path if p],
    'site_packages': site_packages,
    'user_base': user_base,
    'user_site': user_site,
    'enable_user_site': enable_user_site,
    'stdlib': stdlib,
    'scripts': scripts,
    'externally_managed': em,
    'free_threaded': bool(getattr(sys, '_is_gil_enabled', lambda: True)() is False),
    'found': dict((m, found(m)) for m in ('pip', 'ipykernel', 'IPython', 'uv')),
}
sys.stdout.write(json.dumps(out))
