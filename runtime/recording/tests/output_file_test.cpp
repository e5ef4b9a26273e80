// -o FILE of compile and graph: regular files replaced in one rename, everything else (FIFO,
// device node, /dev/stdout) written in place and never turned into a regular file.
#include "acctc/recording/output_file.hpp"
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

namespace acctc::recording {
namespace {

std::string read_all(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

mode_t type_of(const std::filesystem::path& file, bool follow = false) {
    struct stat info {};
    EXPECT_EQ(follow ? ::stat(file.c_str(), &info) : ::lstat(file.c_str(), &info), 0) << file;
    return info.st_mode & S_IFMT;
}

std::size_t entries_in(const std::filesystem::path& dir) {
    return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                                  std::filesystem::directory_iterator()));
}

TEST(OutputFile, NewAndExistingRegularFilesAreReplacedKeepingTheirMode) {
    const testing::TempDir dir;
    const auto file = dir.path() / "out.nft";
    write_output_file(file, "first\n");
    EXPECT_EQ(read_all(file), "first\n");
    ASSERT_EQ(::chmod(file.c_str(), 0640), 0);
    struct stat before {};
    ASSERT_EQ(::stat(file.c_str(), &before), 0);
    write_output_file(file, "second\n");
    struct stat after {};
    ASSERT_EQ(::stat(file.c_str(), &after), 0);
    EXPECT_EQ(read_all(file), "second\n");
    EXPECT_NE(after.st_ino, before.st_ino); // renamed over, not rewritten
    EXPECT_EQ(after.st_mode & 07777, 0640U);
    EXPECT_EQ(entries_in(dir.path()), 1U); // no temporary left behind
}

TEST(OutputFile, ASymlinkIsFollowedAndKept) {
    const testing::TempDir dir;
    const auto real = dir.path() / "real.png";
    const auto link = dir.path() / "latest.png";
    write_output_file(real, "old");
    std::filesystem::create_symlink("real.png", link);
    write_output_file(link, "new");
    EXPECT_EQ(type_of(link), S_IFLNK);
    EXPECT_EQ(read_all(real), "new");
    // A dangling link gets its target created, as the shell's > does.
    const auto dangling = dir.path() / "dangling";
    std::filesystem::create_symlink("made.png", dangling);
    write_output_file(dangling, "made");
    EXPECT_EQ(type_of(dangling), S_IFLNK);
    EXPECT_EQ(read_all(dir.path() / "made.png"), "made");
}

TEST(OutputFile, AFifoIsWrittenInPlace) {
    const testing::TempDir dir;
    const auto fifo = dir.path() / "pipe";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string received;
    std::thread reader([&] { received = read_all(fifo); });
    write_output_file(fifo, "through the pipe\n");
    reader.join();
    EXPECT_EQ(received, "through the pipe\n");
    EXPECT_EQ(type_of(fifo), S_IFIFO);
    EXPECT_EQ(entries_in(dir.path()), 1U);
}

TEST(OutputFile, DeviceNodesStayDevicesAndTheirErrorsAreReported) {
    if (::geteuid() != 0) {
        GTEST_SKIP() << "mknod needs root";
    }
    const testing::TempDir dir;
    // Our own nodes for the kernel's null (1,3) and full (1,7) devices, never the real /dev.
    const auto null = dir.path() / "null";
    const auto full = dir.path() / "full";
    ASSERT_EQ(::mknod(null.c_str(), S_IFCHR | 0666, ::makedev(1, 3)), 0);
    ASSERT_EQ(::mknod(full.c_str(), S_IFCHR | 0666, ::makedev(1, 7)), 0);
    write_output_file(null, "discarded");
    EXPECT_EQ(type_of(null), S_IFCHR);
    try {
        write_output_file(full, std::string(100000, 'x'));
        ADD_FAILURE() << "a write to the full device succeeded";
    } catch (const std::runtime_error& error) {
        EXPECT_NE(std::string(error.what()).find("No space left on device"), std::string::npos)
            << error.what();
        EXPECT_NE(std::string(error.what()).find(full.string()), std::string::npos);
    }
    EXPECT_EQ(type_of(full), S_IFCHR);
    EXPECT_EQ(entries_in(dir.path()), 2U);
    // Through a symlink too.
    const auto link = dir.path() / "to-null";
    std::filesystem::create_symlink(null, link);
    write_output_file(link, "discarded");
    EXPECT_EQ(type_of(null), S_IFCHR);
    EXPECT_EQ(type_of(link), S_IFLNK);
}

TEST(OutputFile, DevStdoutIsTheStreamNotAFileToReplace) {
    const testing::TempDir dir;
    const auto file = dir.path() / "redirected";
    write_output_file(file, "start\n");
    // What a shell's `>> file` gives the process as its standard output.
    const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND);
    ASSERT_GE(fd, 0);
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    struct stat before {};
    ASSERT_EQ(::stat(file.c_str(), &before), 0);
    write_output_file(path, "appended\n");
    ::close(fd);
    struct stat after {};
    ASSERT_EQ(::stat(file.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino);
    EXPECT_EQ(read_all(file), "start\nappended\n");
}

TEST(OutputFile, ADirectoryIsAnError) {
    const testing::TempDir dir;
    EXPECT_THROW(write_output_file(dir.path(), "x"), std::runtime_error);
    EXPECT_TRUE(std::filesystem::is_directory(dir.path()));
}

} // namespace
} // namespace acctc::recording
