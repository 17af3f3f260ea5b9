// pier: flags, config load, workers, signals (SIGTERM/SIGINT drain and exit).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <malloc.h>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>

#include "admin/admin_server.h"
#include "app/healthcheck.h"
#include "config/loader.h"
#include "proxy/server.h"
#include "telemetry/access_log.h"

#ifndef PIER_VERSION
#define PIER_VERSION "dev"
#endif

namespace {

int check(const std::string& path) {
  auto result = pier::config::load_file(path);
  for (const auto& e : result.errors)
    std::cerr << e << "\n";
  if (!result.errors.empty()) {
    std::cerr << result.errors.size() << " error(s) in " << path << "\n";
    return 1;
  }
  std::cout << path << ": ok\n";
  return 0;
}

int probe_health(const std::string& path) {
  auto result = pier::config::load_admin_file(path);
  if (!result.admin) {
    for (const auto& e : result.errors)
      std::cerr << e << "\n";
    return 1;
  }
  return pier::app::healthcheck(*result.admin, std::chrono::seconds(3));
}

// The server outlives main's stack on purpose: coroutine frames still parked in a worker's
// io_context at exit refer to it. It is stopped (threads joined) but never destroyed.
pier::proxy::Server* g_server = nullptr;
// Likewise the access log (workers hold pointers to its rings) and the admin listener (its
// stopped io_context keeps coroutine frames that refer to it).
pier::telemetry::AccessLog* g_access_log = nullptr;
pier::admin::AdminServer* g_admin = nullptr;

int serve(const std::string& path) {
  auto result = pier::config::load_file(path);
  if (!result.options) {
    for (const auto& e : result.errors)
      spdlog::error("{}", e);
    spdlog::error("not starting: {} error(s) in {}", result.errors.size(), path);
    return 1;
  }
  // Signals are caught before any listener exists: a SIGTERM that arrives right after the port
  // opens must drain, not kill the process with the default action.
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGTERM, SIGINT);

  asio::signal_set reopen_signal(signals_io, SIGUSR1);

  auto runtime = std::make_shared<const pier::proxy::Runtime>(std::move(*result.options));
  const pier::proxy::ProxyOptions& options = runtime->options;
  g_server = new pier::proxy::Server(runtime);
  pier::telemetry::AccessLog*& access_log = g_access_log;
  pier::admin::AdminServer*& admin = g_admin;
  if (options.admin.enabled) {
    admin = new pier::admin::AdminServer(*g_server, options.admin);
    try {
      admin->listen();
    } catch (const std::system_error& e) {
      if (options.admin.configured) {
        spdlog::error("cannot start: {}", e.what());
        return 1;
      }
      // The default address taken (another Pier on this host): serve without the admin API.
      spdlog::warn("{}; running without the admin listener (set admin.address)", e.what());
      delete admin;  // it never ran: nothing refers to it
      admin = nullptr;
    }
  }
  try {
    if (options.access_log) {
      access_log = new pier::telemetry::AccessLog(options.access_log->path,
                                                  options.access_log->combined
                                                      ? pier::telemetry::LogFormat::Combined
                                                      : pier::telemetry::LogFormat::Json,
                                                  options.workers);
      access_log->start();
      g_server->set_access_log(access_log);
    }
    g_server->start();
  } catch (const std::system_error& e) {
    spdlog::error("cannot start: {}", e.what());
    return 1;
  }
  if (admin != nullptr) admin->start();
  spdlog::info("pier {} started with {}", PIER_VERSION, path);

  // SIGUSR1: reopen the access log file (logrotate's postrotate).
  std::function<void()> wait_reopen = [&] {
    reopen_signal.async_wait([&](const std::error_code& ec, int) {
      if (ec) return;
      if (access_log != nullptr) access_log->reopen();
      spdlog::info("received SIGUSR1: reopening the access log");
      wait_reopen();
    });
  };
  wait_reopen();

#ifndef PIER_JEMALLOC
  // Memory that bursts of connections freed goes back to the system instead of staying in glibc
  // malloc's free lists (the workers trim their own pools each second; with jemalloc, its
  // background thread does this: app/allocator.cc).
  asio::steady_timer trim_timer(signals_io);
  std::function<void()> schedule_trim = [&] {
    trim_timer.expires_after(std::chrono::seconds(1));
    trim_timer.async_wait([&](const std::error_code& ec) {
      if (ec) return;
      malloc_trim(0);
      schedule_trim();
    });
  };
  schedule_trim();
#endif
  signals.async_wait([&](const std::error_code&, int signal) {
    spdlog::info("received {}: draining (up to the shutdown_timeout)",
                 signal == SIGTERM ? "SIGTERM" : "SIGINT");
#ifndef PIER_JEMALLOC
    trim_timer.cancel();
#endif
    reopen_signal.cancel();
  });
  signals_io.run();
  std::size_t left = g_server->drain();
  if (left > 0) spdlog::warn("shutdown timeout: closing {} connection(s) still open", left);
  if (admin != nullptr) admin->stop();
  g_server->stop();
  if (access_log != nullptr) access_log->stop();  // every line of the finished requests written
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A closed pipe (stdout to a collector that went away) must cost a log line, never the
  // process: write() then fails with EPIPE instead of raising SIGPIPE. The data path relies on it
  // too: splice(2) into a socket the peer closed has no MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{
      "Pier: an HTTP reverse proxy with load balancing, pooling, retries and health checks"};
  std::string config = "config/pier.yaml";
  std::string check_file;
  std::string log_level = "info";
  bool version = false;
  bool health = false;
  app.add_option("-c,--config", config, "config file to run with")->capture_default_str();
  app.add_option("--check", check_file,
                 "validate a config file, print every error, exit 1 on error");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();
  app.add_flag("--healthcheck", health,
               "ask the Pier running with --config for its admin /healthz; exit 0 when healthy");
  app.add_flag("-v,--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::cout << "pier " << PIER_VERSION << "\n";
    return 0;
  }
  // Logs go to stderr; stdout stays free for the access log.
  auto logger = spdlog::stderr_color_mt("pier");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  if (!check_file.empty()) return check(check_file);
  if (health) return probe_health(config);
  return serve(config);
}
