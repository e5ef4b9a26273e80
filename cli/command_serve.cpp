// acctc serve: the Prometheus endpoint; counters read on a worker thread, at most --max-age-ms
// before a request, one read shared by every request it serves.
#include "acctc/recording/counter_scrape.hpp"
#include "acctc/recording/listen_address.hpp"
#include "acctc/recording/metrics_server.hpp"
#include "acctc/runtime/errors.hpp"
#include "acctc/runtime/exposition.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"
#include "service.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <signal.h>
#include <sys/signalfd.h>
#include <system_error>

namespace acctc::cli {
namespace {

namespace po = boost::program_options;

int run_serve(const std::vector<std::string>& args) {
    std::vector<std::string> policies;
    KernelOptions kernel;
    std::string listen = recording::default_listen_address;
    recording::ServerOptions server_options;
    unsigned read_timeout_ms = static_cast<unsigned>(server_options.read_timeout.count());
    unsigned max_age_ms = static_cast<unsigned>(server_options.max_age.count());
    std::size_t max_hosts = runtime::default_max_host_series;
    po::options_description options("options");
    options.add_options()("listen,l", po::value(&listen)->default_value(listen),
                          "ADDR:PORT to serve /metrics on ([::1]:PORT for IPv6)")(
        "max-connections",
        po::value(&server_options.max_connections)->default_value(server_options.max_connections),
        "open connections at most; the client idle for longest is dropped for a new one")(
        "max-age-ms", po::value(&max_age_ms)->default_value(max_age_ms),
        "answer with counters read at most this long before the request (0: read for it)")(
        "max-held-bytes",
        po::value(&server_options.max_held_bytes)->default_value(server_options.max_held_bytes),
        "older responses still being sent may hold this much memory; beyond, their slowest "
        "clients are dropped")("read-timeout-ms",
                               po::value(&read_timeout_ms)->default_value(read_timeout_ms),
                               "a request head must arrive within this many milliseconds")(
        "max-hosts", po::value(&max_hosts)->default_value(max_hosts),
        "at most N hosts per counter; the rest summed as host=\"other\"")(
        "policy", po::value(&policies),
        "policy files or names as applied (default: every acctc policy)");
    add_kernel_options(options, kernel);
    po::positional_options_description positional;
    positional.add("policy", -1);
    po::variables_map map;
    if (!parse_command_line(
            args,
            "acctc serve [--listen ADDR:PORT] [--max-hosts N] [--netns NAME] [--backend NAME] "
            "[POLICY...]",
            options, positional, map)) {
        return exit_ok;
    }
    if (!name_policies(policies, kernel)) {
        return exit_policy_error;
    }
    if (server_options.max_connections == 0) {
        throw UsageError("--max-connections must be at least 1");
    }
    server_options.read_timeout = std::chrono::milliseconds(read_timeout_ms);
    server_options.max_age = std::chrono::milliseconds(max_age_ms);
    server_options.log = [](const std::string& message) {
        log_line(LogPriority::notice, "acctc serve: " + message);
    };
    recording::ListenAddress address;
    try {
        address = recording::parse_listen_address(listen);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    // One formatter for `counters --prometheus` and this endpoint: the runtime's. A policy that
    // is not loaded is a metric (acctc_policy_loaded 0), not a failed scrape.
    auto scrape = std::make_shared<recording::CounterScrape>(
        policies, kernel.netns, server_options.log, given_backend(kernel), max_hosts);
    // Once now, so that what no scrape could survive (no privilege to enter the namespace or
    // to read nf_tables) fails here with its reason instead of as 500 after 500.
    try {
        (void)scrape->render();
    } catch (const runtime::RuntimeError& error) {
        log_line(LogPriority::error, std::string("acctc serve: ") + error.what());
        return exit_policy_error;
    }
    auto render = [scrape] { return scrape->render(); };
    // SIGTERM and SIGINT become readable on a signalfd that the server polls: a clean stop
    // between two requests, never in the middle of one.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    const recording::UniqueFd stop(::signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!stop) {
        throw std::system_error(errno, std::generic_category(), "signalfd");
    }
    recording::MetricsServer server(address, render, server_options);
    const std::string url =
        "http://" + server.address().to_string() + std::string(recording::metrics_path);
    log_line(LogPriority::info, "acctc serve: listening on " + url);
    // Type=notify: the port is open and the first read worked, so scrapers may start now.
    notify_service_manager("READY=1\nSTATUS=serving " + url);
    server.run(stop.get());
    notify_service_manager("STOPPING=1");
    log_line(LogPriority::info, "acctc serve: stopped");
    return exit_ok;
}

const CommandRegistration registration{
    {"serve", "serve counters as Prometheus metrics over HTTP (/metrics)", &run_serve}};

} // namespace
} // namespace acctc::cli
