// acctc serve: the Prometheus endpoint, counters read afresh on every scrape.
#include "acctc/recording/listen_address.hpp"
#include "acctc/recording/metrics_server.hpp"
#include "acctc/runtime/counters.hpp"
#include "acctc/runtime/exposition.hpp"
#include "command.hpp"
#include "common.hpp"
#include "kernel_options.hpp"

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
    po::options_description options("options");
    options.add_options()("listen,l", po::value(&listen)->default_value(listen),
                          "ADDR:PORT to serve /metrics on ([::1]:PORT for IPv6)")(
        "max-connections", po::value(&server_options.max_connections)->default_value(64),
        "open connections at most; the oldest unfinished request is dropped for a new one")(
        "read-timeout-ms", po::value(&read_timeout_ms)->default_value(read_timeout_ms),
        "a request head must arrive within this many milliseconds")(
        "policy", po::value(&policies),
        "policy files or names as applied (default: every acctc policy)");
    add_kernel_options(options, kernel);
    po::positional_options_description positional;
    positional.add("policy", -1);
    po::variables_map map;
    if (!parse_command_line(args, "acctc serve [--listen ADDR:PORT] [--netns NAME] [POLICY...]",
                            options, positional, map)) {
        return exit_ok;
    }
    for (auto& policy : policies) {
        const auto name = policy_name_of(policy, kernel);
        if (!name) {
            return exit_policy_error;
        }
        policy = *name;
    }
    if (server_options.max_connections == 0) {
        throw UsageError("--max-connections must be at least 1");
    }
    server_options.read_timeout = std::chrono::milliseconds(read_timeout_ms);
    server_options.log = [](const std::string& message) {
        std::cerr << "acctc serve: " << message << std::endl;
    };
    recording::ListenAddress address;
    try {
        address = recording::parse_listen_address(listen);
    } catch (const std::invalid_argument& error) {
        throw UsageError(error.what());
    }
    // One formatter for `counters --prometheus` and this endpoint: the runtime's.
    auto render = [policies, netns = kernel.netns]() {
        std::vector<runtime::CounterSample> samples;
        if (policies.empty()) {
            samples = runtime::read_counters({}, netns);
        }
        for (const auto& policy : policies) {
            auto more = runtime::read_counters(policy, netns);
            samples.insert(samples.end(), more.begin(), more.end());
        }
        return runtime::format_prometheus(samples);
    };
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
    std::cerr << "acctc serve: listening on http://" << server.address().to_string()
              << recording::metrics_path << std::endl;
    server.run(stop.get());
    std::cerr << "acctc serve: stopped" << std::endl;
    return exit_ok;
}

const CommandRegistration registration{
    {"serve", "serve counters as Prometheus metrics over HTTP (/metrics)", &run_serve}};

} // namespace
} // namespace acctc::cli
