// No user string can add a command to generated text. Every byte 0-255 (and a few multi-byte
// attacks) is put in every place where a user string reaches the output: the file name, device
// names (quoted and bare, also as passive ingress chains), a cgroup path, counter, policy,
// class and alias names, a quoted user name, a service and an ICMP type name, a comment. For
// nft and for iptables (iptables-restore, ip6tables-restore and ipset texts), the result is
// either a positioned error or text of exactly the same shape as the same policy with a plain
// letter in that place: the same lines, the same punctuation, the same commands; only the
// contents of quoted strings, comments and words (names, numbers) may differ.
#include "acctc/compile.hpp"
#include "acctc/version.hpp"

#include <gtest/gtest.h>
#include <optional>
#include <sstream>

namespace acctc {
namespace {

// How the loader reads a line: nft starts a comment at any '#' outside quotes and has no
// escapes in quoted strings; iptables-restore and ipset only skip lines starting with '#' and
// let a backslash escape the next byte inside quotes.
enum class Loader { nft, restore };

// nft's punctuation delimits commands (';', '{', '}'); iptables-restore splits a line into
// arguments at blanks only, so there every other byte belongs to an argument.
bool word_byte(unsigned char c, Loader loader) {
    if (loader == Loader::restore) {
        return c != ' ' && c != '\t' && c != '\n' && c != '"' && c != '\\';
    }
    return std::isalnum(c) ||
           std::string_view("_./@+*:-").find(static_cast<char>(c)) != std::string_view::npos;
}

// The text with comments dropped, quoted strings emptied and every run of word bytes written
// as 'w'. Nothing when a quote is left open at the end of a line (the loader would then read
// the next line as part of the string, or fail).
std::optional<std::string> shape(std::string_view text, Loader loader) {
    std::string out;
    bool line_start = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        const bool comment = c == '#' && (loader == Loader::nft || line_start);
        line_start = c == '\n';
        if (comment) {
            while (i < text.size() && text[i] != '\n') {
                ++i;
            }
            out += '\n';
            line_start = true;
        } else if (c == '"') {
            for (++i; i < text.size() && text[i] != '"'; ++i) {
                if (text[i] == '\n') {
                    return std::nullopt;
                }
                if (loader == Loader::restore && text[i] == '\\') {
                    ++i;
                }
            }
            if (i >= text.size()) {
                return std::nullopt;
            }
            out += "\"\"";
        } else if (word_byte(c, loader)) {
            while (i + 1 < text.size() &&
                   word_byte(static_cast<unsigned char>(text[i + 1]), loader)) {
                ++i;
            }
            out += 'w';
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

// One place a user string reaches: a file name and a policy, with "%" where the string goes,
// the plain letter that makes a policy of the intended shape there, and the bytes that are the
// policy language's own syntax there (a ',' between bare device names lists two devices).
struct Place {
    const char* what;
    const char* file_name;
    const char* policy;
    const char* plain;
    std::string_view syntax = {};
};

const Place places[] = {
    {"file name start", "%.acct", "policy p\ncounter c { in }\n", "a"},
    {"file name middle", "dir/x%y.acct", "policy p\ninterface d = e\ncounter c { via d; in }\n",
     "a"},
    {"file name end", "x.acct%", "policy p\ncounter c { udp; split direction }\n", "a"},
    {"quoted device", "d.acct", "policy p\ninterface d = \"e%th0\"\ncounter c { via d }\n", "a"},
    {"bare device", "d.acct", "policy p\ninterface d = e%th0\ncounter c { via d; in }\n", "a", ","},
    {"passive device", "d.acct", "policy p\ninterface d = \"v%eth\"\ncounter c { passive via d }\n",
     "a"},
    {"cgroup path", "g.acct", "policy p\ncounter c { owner cgroup \"a/%b\"; out }\n", "a"},
    {"counter name", "n.acct", "policy p\ncounter c% { in }\n", "a"},
    {"policy name", "n.acct", "policy p%\ncounter c { in }\n", "a"},
    {"class label", "k.acct", "policy p\nclassify k local in { l%: udp\n otherwise: rest }\n", "a"},
    {"network alias", "n.acct", "policy p\nnetwork n% = 198.18.0.0/24\ncounter c { from n% }\n",
     "a"},
    {"quoted user", "u.acct", "policy p\ncounter c { owner user \"alic%\"; out }\n", "e"},
    {"service name", "s.acct", "policy p\ncounter c { udp dport domai% }\n", "n"},
    {"icmp type", "i.acct", "policy p\ncounter c { icmp type echo-reques% }\n", "t"},
    {"peers", "r.acct",
     "policy p\ncounter f { udp dport 53; follow connection }\n"
     "counter c { from peers of f% }\n",
     ""},
    {"comment", "c.acct", "policy p # x%y\ncounter c { in } # %\n", "a"},
};

std::string filled(const char* pattern, const std::string& text) {
    std::string out;
    for (const char* p = pattern; *p; ++p) {
        out += *p == '%' ? text : std::string(1, *p);
    }
    return out;
}

CompileResult compile_at(const Place& place, const std::string& text, Target target) {
    CompileOptions options;
    options.target = target;
    options.etc_dir = std::string(ACCTC_SOURCE_DIR) + "/specs/etc";
    return compile_source(filled(place.file_name, text), filled(place.policy, text), options);
}

// Every text a loader reads, with the loader that reads it.
std::vector<std::pair<std::string, Loader>> texts(const CompiledPolicy& output) {
    if (!output.iptables) {
        return {{output.text, Loader::nft}};
    }
    return {{output.iptables->v4, Loader::restore},
            {output.iptables->v6, Loader::restore},
            {output.iptables->ipset, Loader::restore},
            {output.text, Loader::restore}};
}

void expect_same_shape(const Place& place, const std::string& text, Target target) {
    SCOPED_TRACE(std::string(place.what) + (target == Target::nft ? ", nft" : ", iptables"));
    const CompileResult reference = compile_at(place, place.plain, target);
    if (!reference.output) {
        // iptables cannot express some places (passive collection): nothing can be injected.
        ASSERT_EQ(target, Target::iptables) << "the plain policy must compile";
        EXPECT_FALSE(compile_at(place, text, target).output.has_value());
        return;
    }
    const CompileResult result = compile_at(place, text, target);
    // Diagnostics go to a terminal: no byte of a user string may drive it.
    std::ostringstream rendered;
    render_all(rendered, result.source, result.diagnostics);
    for (unsigned char c : rendered.str()) {
        ASSERT_TRUE((c >= 0x20 && c < 0x7f) || c == '\n' || c == '\t') << rendered.str();
    }
    if (!result.output) {
        EXPECT_TRUE(result.diagnostics.has_errors());
        return;
    }
    const auto expected = texts(*reference.output);
    const auto actual = texts(*result.output);
    ASSERT_EQ(expected.size(), actual.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto want = shape(expected[i].first, expected[i].second);
        ASSERT_TRUE(want.has_value()) << expected[i].first;
        EXPECT_EQ(want, shape(actual[i].first, actual[i].second))
            << "byte string of " << text.size() << " bytes, first 0x" << std::hex
            << static_cast<int>(static_cast<unsigned char>(text.empty() ? 0 : text[0]))
            << ", changed the shape of:\n"
            << actual[i].first;
    }
}

TEST(InjectionProperty, ShapeSeesAnInjectedCommand) {
    const auto clean = shape("# x\ntable inet t { comment \"a\" }\n", Loader::nft);
    EXPECT_EQ(clean, "\nw w w { w \"\" }\n");
    EXPECT_NE(clean, shape("# x\nflush ruleset\ntable inet t { comment \"a\" }\n", Loader::nft));
    EXPECT_NE(clean, shape("# x\ntable inet t { comment \"a\"; flush ruleset }\n", Loader::nft));
    EXPECT_EQ(std::nullopt, shape("-A x --comment \"a\\\"\n-F\n", Loader::restore));
    EXPECT_NE(shape("# x\n-A c\n", Loader::restore), shape("# x\n-A c\n-F\n", Loader::restore));
    EXPECT_EQ(shape("-A c -i a;b{\n", Loader::restore), shape("-A c -i ab\n", Loader::restore));
    EXPECT_NE(shape("-A c -i a\n", Loader::restore), shape("-A c -i a -j DROP\n", Loader::restore));
}

TEST(InjectionProperty, EveryByteInEveryPlaceOnBothTargets) {
    for (const Place& place : places) {
        for (int byte = 0; byte < 256; ++byte) {
            const std::string text(1, static_cast<char>(byte));
            if (place.syntax.find(text) != std::string_view::npos) {
                continue;
            }
            expect_same_shape(place, text, Target::nft);
            expect_same_shape(place, text, Target::iptables);
        }
    }
}

TEST(InjectionProperty, KnownAttacksInEveryPlace) {
    const char* attacks[] = {
        "\nflush ruleset\n",
        "\n*filter\n-F\n-P INPUT DROP\nCOMMIT\n",
        "\n-F\n",
        "\"; flush ruleset; #",
        "\\\" -j DROP -m comment --comment \\\"",
        "\r\ndelete table inet acctc_p\r\n",
        "} ; table ip x { chain y { type filter hook input priority 0; policy drop; } }",
        "\xe2\x80\xa8\xc2\x85", // Unicode line and next-line separators
    };
    for (const Place& place : places) {
        for (const char* attack : attacks) {
            expect_same_shape(place, attack, Target::nft);
            expect_same_shape(place, attack, Target::iptables);
        }
    }
}

TEST(InjectionProperty, FileNameIsEscapedInTheHeader) {
    const auto result = compile_source("a\nflush ruleset\\.acct", "policy p\ncounter c { in }\n");
    ASSERT_TRUE(result.output.has_value());
    EXPECT_EQ(result.output->text.substr(0, result.output->text.find('\n')),
              "# Generated by acctc " + std::string(version) +
                  " from a\\x0aflush ruleset\\x5c.acct; load with: nft -f FILE");
}

} // namespace
} // namespace acctc
