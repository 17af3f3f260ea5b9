"""The dashboard in a real browser: headless Chromium (Debian's) driven by playwright-core
(tests/dashboard/, installed from npm by scripts/test). The page must load without console
errors, its numbers must rise under traffic, and a backend failing its health checks must show
as unhealthy. The screenshot is kept in build/test-artifacts/dashboard.png.
"""

import os
import pathlib
import shutil
import subprocess
import unittest

from harness import REPO_ROOT, PierTestCase, make_config, upstream

DASHBOARD_TEST = REPO_ROOT / 'tests' / 'dashboard'
NODE = shutil.which('node')
CHROMIUM = shutil.which('chromium')
ARTIFACTS = pathlib.Path(os.environ.get('PIER_TEST_ARTIFACTS') or REPO_ROOT / 'build' / 'test-artifacts')


@unittest.skipUnless(NODE and CHROMIUM and (DASHBOARD_TEST / 'node_modules').is_dir(),
                     'node, chromium or tests/dashboard/node_modules missing (scripts/test '
                     'installs them)')
class DashboardTest(PierTestCase):

    def test_dashboard_in_headless_chromium(self):
        b1, b2 = self.start_backends('b1', 'b2')
        health = {'path': '/healthz', 'interval': '300ms', 'fall': 1, 'rise': 1}
        self.start_pier(make_config({'app': upstream(b1, b2, health=health)}))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        screenshot = ARTIFACTS / 'dashboard.png'
        if screenshot.exists():
            screenshot.unlink()
        result = subprocess.run(
            [NODE, str(DASHBOARD_TEST / 'dashboard_test.mjs'),
             '--admin', 'http://127.0.0.1:%d' % self.pier.admin_port,
             '--proxy', 'http://127.0.0.1:%d' % self.pier.port,
             '--backend-control', 'http://%s' % b2.address,
             '--backend', b2.address,
             '--screenshot', str(screenshot),
             '--chromium', CHROMIUM],
            capture_output=True, text=True, timeout=120, cwd=DASHBOARD_TEST)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertTrue(screenshot.exists() and screenshot.stat().st_size > 10000)


if __name__ == '__main__':
    unittest.main()
