"""Command line and config validation: --check, --version, errors as FILE:LINE:COL: path: message."""

import os
import re
import subprocess
import time
import unittest

from harness import PIER_BIN, PierTestCase, free_port, run_pier

# A valid config. Tests break single lines of it; line numbers are 1-based, found by content.
GOOD = '''\
workers: 1
shutdown_timeout: 2s
listeners:
  - name: public
    address: 127.0.0.1:{port}
upstreams:
  app:
    balance: round_robin
    backends:
      - {{ address: 127.0.0.1:9001, weight: 2 }}
      - {{ address: 127.0.0.1:9002 }}
    timeouts:
      connect: 1s
      response_header: 15s
routes:
  - match: {{ host: "*", path_prefix: / }}
    upstream: app
'''


def edit(text, old, new):
    assert text.count(old) == 1, old
    return text.replace(old, new)


def position(text, line_text, token):
    """(line, column) of `token` within the line containing `line_text`, both 1-based."""
    for number, line in enumerate(text.splitlines(), 1):
        if line_text in line:
            return number, line.index(token) + 1
    raise AssertionError('%r not in config' % line_text)


class ConfigCheckTest(PierTestCase):

    def write(self, text, name='pier.yaml'):
        path = self.workdir / name
        path.write_text(text)
        return str(path)

    def good(self):
        return GOOD.format(port=free_port())

    def check(self, text):
        path = self.write(text)
        result = run_pier(['--check', path])
        output = result.stdout + result.stderr
        return path, result, output

    def error_lines(self, path, output):
        """[(line, col, config path, message, whole line)] of FILE:LINE:COL: path: message lines."""
        names = '|'.join(re.escape(p) for p in (path, os.path.basename(path)))
        pattern = re.compile(r'^(?:%s):(\d+):(\d+): (\S+): (.+)$' % names)
        found = []
        for line in output.splitlines():
            m = pattern.match(line.strip())
            if m:
                found.append((int(m.group(1)), int(m.group(2)), m.group(3), m.group(4), line))
        return found

    def assertReported(self, path, output, line, columns, config_paths, mentions=None):
        """An error on `line` at one of `columns` (key or value) naming one of `config_paths`."""
        errors = self.error_lines(path, output)
        for err_line, col, key_path, message, whole in errors:
            if err_line == line and key_path in config_paths:
                self.assertIn(col, columns, 'wrong column in %r' % whole)
                if mentions:
                    self.assertIn(mentions, whole)
                self.assertTrue(message.strip(), 'empty message in %r' % whole)
                return
        self.fail('no "%s:%d:COL: %s: message" line in the output:\n%s'
                  % (path, line, ' or '.join(config_paths), output))

    def test_check_accepts_good_config(self):
        path, result, output = self.check(self.good())
        self.assertEqual(result.returncode, 0, output)
        self.assertEqual(self.error_lines(path, output), [])

    def test_check_reports_unknown_key_with_position(self):
        text = edit(self.good(), '    balance: round_robin', '    balanse: round_robin')
        path, result, output = self.check(text)
        self.assertEqual(result.returncode, 1, output)
        line, col = position(text, 'balanse:', 'balanse')
        self.assertReported(path, output, line, {col}, {'upstreams.app.balanse', 'upstreams.app'},
                            mentions='balanse')

    def test_check_reports_bad_weight_with_position(self):
        text = edit(self.good(), '127.0.0.1:9002 }', '127.0.0.1:9002, weight: 0 }')
        path, result, output = self.check(text)
        self.assertEqual(result.returncode, 1, output)
        line, key_col = position(text, 'weight: 0', 'weight')
        _, value_col = position(text, 'weight: 0', '0 }')
        self.assertReported(path, output, line, {key_col, value_col},
                            {'upstreams.app.backends[1].weight'})

    def test_check_reports_weight_over_256(self):
        text = edit(self.good(), 'weight: 2 }', 'weight: 257 }')
        path, result, output = self.check(text)
        self.assertEqual(result.returncode, 1, output)
        line, key_col = position(text, 'weight: 257', 'weight')
        _, value_col = position(text, 'weight: 257', '257')
        self.assertReported(path, output, line, {key_col, value_col},
                            {'upstreams.app.backends[0].weight'})

    def test_check_reports_bad_duration_with_position(self):
        text = edit(self.good(), '      connect: 1s', '      connect: 5 parsecs')
        path, result, output = self.check(text)
        self.assertEqual(result.returncode, 1, output)
        line, key_col = position(text, 'connect: 5 parsecs', 'connect')
        _, value_col = position(text, 'connect: 5 parsecs', '5 parsecs')
        self.assertReported(path, output, line, {key_col, value_col}, {'upstreams.app.timeouts.connect'})

    def test_check_reports_every_error_in_one_run(self):
        text = self.good()
        text = edit(text, '    balance: round_robin', '    balanse: round_robin')
        text = edit(text, '127.0.0.1:9002 }', '127.0.0.1:9002, weight: 0 }')
        text = edit(text, '      connect: 1s', '      connect: 5 parsecs')
        path, result, output = self.check(text)
        self.assertEqual(result.returncode, 1, output)
        lines = sorted({e[0] for e in self.error_lines(path, output)})
        expected = sorted(position(text, t, t)[0] for t in ('balanse:', 'weight: 0', '5 parsecs'))
        self.assertEqual(lines, expected, 'one error line per mistake expected:\n%s' % output)

    def test_check_reports_route_to_unknown_upstream(self):
        text = edit(self.good(), '    upstream: app', '    upstream: nosuch')
        path, result, output = self.check(text)
        self.assertEqual(result.returncode, 1, output)
        line, key_col = position(text, 'upstream: nosuch', 'upstream')
        _, value_col = position(text, 'upstream: nosuch', 'nosuch')
        self.assertReported(path, output, line, {key_col, value_col}, {'routes[0].upstream'})

    def test_check_reports_yaml_syntax_error_with_position(self):
        text = edit(self.good(), '    balance: round_robin', '    balance: [round_robin')
        path, result, output = self.check(text)
        self.assertEqual(result.returncode, 1, output)
        names = '|'.join(re.escape(p) for p in (path, os.path.basename(path)))
        self.assertRegex(output, r'(?m)^(?:%s):\d+:\d+: ' % names)

    def test_check_of_missing_file_fails(self):
        result = run_pier(['--check', str(self.workdir / 'does-not-exist.yaml')])
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('does-not-exist.yaml', result.stdout + result.stderr)

    def test_version_prints_version(self):
        result = run_pier(['--version'])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout + result.stderr, r'\d+\.\d+')

    def test_start_with_invalid_config_fails_with_the_errors(self):
        text = edit(self.good(), '      connect: 1s', '      connect: 5 parsecs')
        path = self.write(text)
        t0 = time.monotonic()
        try:
            result = subprocess.run([PIER_BIN, '--config', path], stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True, timeout=10)
        except subprocess.TimeoutExpired:
            self.fail('pier kept running with an invalid config')
        self.assertNotEqual(result.returncode, 0)
        self.assertLess(time.monotonic() - t0, 10)
        line, _ = position(text, '5 parsecs', 'connect')
        self.assertIn(':%d:' % line, result.stdout + result.stderr)
        self.assertIn('upstreams.app.timeouts.connect', result.stdout + result.stderr)


if __name__ == '__main__':
    unittest.main()
