// serve and record --every as systemd Type=notify services, without systemd: a datagram socket
// stands in for $NOTIFY_SOCKET and a file whose device:inode is $JOURNAL_STREAM for the journal.
#include <array>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <regex>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Service : public ::testing::Test {
  protected:
    void SetUp() override {
        const std::string id = std::to_string(::getpid());
        netns_ = "acctc-package-" + id;
        directory_ = fs::temp_directory_path() / ("acctc-service-" + id);
        fs::create_directories(directory_);
        ASSERT_EQ(std::system(("ip netns add " + netns_).c_str()), 0);
        socket_path_ = directory_ / "notify";
        socket_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_GE(socket_, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_path_.c_str());
        ASSERT_EQ(::bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        const timeval timeout{15, 0};
        ::setsockopt(socket_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    }
    void TearDown() override {
        if (child_ > 0) {
            ::kill(child_, SIGKILL);
            ::waitpid(child_, nullptr, 0);
        }
        ::close(socket_);
        std::system(("ip netns del " + netns_ + " 2>/dev/null").c_str());
        fs::remove_all(directory_);
    }

    // Starts acctc with stderr into `log`; journal: $JOURNAL_STREAM names that file.
    void start(std::vector<std::string> args, bool journal) {
        const auto log = directory_ / "stderr";
        std::ofstream(log).flush();
        struct stat status {};
        ASSERT_EQ(::stat(log.c_str(), &status), 0);
        const std::string stream =
            journal ? std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino) : "0:0";
        args.insert(args.begin(), ACCTC_CLI_PATH);
        child_ = ::fork();
        ASSERT_GE(child_, 0);
        if (child_ == 0) {
            const int fd = ::open(log.c_str(), O_WRONLY | O_APPEND);
            ::dup2(fd, STDERR_FILENO);
            ::setenv("NOTIFY_SOCKET", socket_path_.c_str(), 1);
            ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
            std::vector<char*> argv;
            for (auto& arg : args) {
                argv.push_back(arg.data());
            }
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
    }
    std::string receive() {
        std::array<char, 4096> buffer{};
        const ssize_t size = ::recv(socket_, buffer.data(), buffer.size(), 0);
        return size < 0 ? "(nothing within 15 s)" : std::string(buffer.data(), size);
    }
    int stop() {
        ::kill(child_, SIGTERM);
        int status = 0;
        ::waitpid(child_, &status, 0);
        child_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    }
    std::string log() const { return slurp(directory_ / "stderr"); }

    std::string netns_;
    fs::path directory_;
    fs::path socket_path_;
    int socket_ = -1;
    pid_t child_ = -1;
};

TEST_F(Service, ServeNotifiesReadyOnceListeningAndLogsWithJournalPriorities) {
    start({"serve", "--listen", "127.0.0.1:0", "--netns", netns_}, true);
    const std::string ready = receive();
    EXPECT_EQ(ready.rfind("READY=1\nSTATUS=serving http://127.0.0.1:", 0), 0U) << ready;
    EXPECT_EQ(log().rfind("<6>acctc serve: listening on http://127.0.0.1:", 0), 0U) << log();
    EXPECT_EQ(stop(), 0);
    EXPECT_EQ(receive(), "STOPPING=1");
    EXPECT_NE(log().find("\n<6>acctc serve: stopped\n"), std::string::npos) << log();
}

TEST_F(Service, ErrorsCarryTheErrorPriorityAndNoPrefixWhenStderrIsNotTheJournal) {
    start({"serve", "--listen", "127.0.0.1:0", "--netns", "acctc-package-no-such-netns"}, true);
    int status = 0;
    ::waitpid(child_, &status, 0);
    child_ = -1;
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_EQ(log().rfind("<3>acctc serve: ", 0), 0U) << log();

    start({"serve", "--listen", "127.0.0.1:0", "--netns", netns_}, false);
    EXPECT_EQ(receive().rfind("READY=1", 0), 0U);
    EXPECT_EQ(log().rfind("acctc serve: listening on", 0), 0U) << log();
    EXPECT_EQ(stop(), 0);
}

TEST_F(Service, RecordEveryNotifiesReadyAfterTheFirstRound) {
    ASSERT_EQ(std::system(("ip netns exec " + netns_ +
                           " nft 'add table inet acctc_svc; add counter inet acctc_svc seen'")
                              .c_str()),
              0);
    const auto rrd = directory_ / "rrd";
    start({"record", "--every", "1", "--rrd-dir", rrd.string(), "--netns", netns_}, true);
    const std::string ready = receive();
    EXPECT_EQ(ready.rfind("READY=1\nSTATUS=recording every 1 s into ", 0), 0U) << ready;
    EXPECT_TRUE(fs::exists(rrd / "svc" / "seen.rrd")) << log(); // ready means recorded once
    EXPECT_EQ(stop(), 0);
    EXPECT_EQ(receive(), "STOPPING=1");

    // The report line says when in local time (here a POSIX TZ nine hours east), not in epoch
    // seconds.
    const auto out = directory_ / "out";
    ASSERT_EQ(
        std::system(("TZ=XYZ-9 " + std::string(ACCTC_CLI_PATH) + " record --rrd-dir " +
                     (directory_ / "tz").string() + " --netns " + netns_ + " >" + out.string())
                        .c_str()),
        0);
    const std::string line = slurp(out);
    EXPECT_TRUE(std::regex_search(line, std::regex("^recorded 1 counter\\(s\\) at "
                                                   "[0-9]{4}-[0-9]{2}-[0-9]{2} "
                                                   "[0-9]{2}:[0-9]{2}:[0-9]{2} XYZ in ")))
        << line;
}

} // namespace
