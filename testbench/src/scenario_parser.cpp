// Reads *.scn files: one statement per line, '#' comments, raw `{ ... }` blocks for inline
// policies and rulesets. Every error carries the position of the word it is about.
#include "acctc/testbench/runner.hpp"
#include "acctc/testbench/scenario.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/socket.h>

namespace acctc::testbench {
namespace {

struct Token {
    std::string text;
    SourceRange range;
};

struct Statement {
    std::vector<Token> words;
    std::optional<Token> block; // raw text between `{` (last word) and a line holding `}`
    SourceRange range;
};

// Splits the file into statements; a block's lines are not tokenized.
std::vector<Statement> split_statements(const std::string& text, Diagnostics& diagnostics) {
    std::vector<Statement> statements;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto end = std::min(text.find('\n', at), text.size());
        Statement statement;
        std::size_t position = at;
        while (position < end) {
            while (position < end &&
                   (text[position] == ' ' || text[position] == '\t' || text[position] == '\r')) {
                ++position;
            }
            if (position >= end || text[position] == '#') {
                break;
            }
            Token token;
            token.range.begin = position;
            if (text[position] == '"') {
                const auto close = text.find('"', position + 1);
                if (close == std::string::npos || close >= end) {
                    diagnostics.error({position, end}, "unterminated string");
                    position = end;
                    break;
                }
                token.text = text.substr(position + 1, close - position - 1);
                position = close + 1;
            } else {
                while (position < end && text[position] != ' ' && text[position] != '\t' &&
                       text[position] != '\r' && text[position] != '#') {
                    ++position;
                }
                token.text = text.substr(token.range.begin, position - token.range.begin);
            }
            token.range.end = position;
            statement.words.push_back(token);
        }
        at = end + 1;
        if (statement.words.empty()) {
            continue;
        }
        statement.range = {statement.words.front().range.begin, statement.words.back().range.end};
        if (statement.words.back().text == "{") {
            const auto open = statement.words.back();
            statement.words.pop_back();
            Token block;
            block.range.begin = std::min(at, text.size());
            bool closed = false;
            int depth = 1; // inner blocks (a policy's counters) close with '}' too
            while (at < text.size()) {
                const auto line_end = std::min(text.find('\n', at), text.size());
                auto line = text.substr(at, line_end - at);
                line = line.substr(0, line.find('#'));
                depth += static_cast<int>(std::count(line.begin(), line.end(), '{')) -
                         static_cast<int>(std::count(line.begin(), line.end(), '}'));
                line.erase(0, line.find_first_not_of(" \t\r"));
                line.erase(line.find_last_not_of(" \t\r") + 1);
                if (line == "}" && depth == 0) {
                    block.range.end = at;
                    at = line_end + 1;
                    closed = true;
                    break;
                }
                at = line_end + 1;
            }
            if (!closed) {
                diagnostics.error(open.range,
                                  "block is not closed: expected a line holding only '}'");
                block.range.end = text.size();
            }
            block.text = text.substr(block.range.begin, block.range.end - block.range.begin);
            statement.block = block;
        }
        statements.push_back(std::move(statement));
    }
    return statements;
}

template <class Number>
std::optional<Number> number(const std::string& text) {
    Number value{};
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

// An IP protocol a raw socket may carry: a number or one of a few names. Protocols with
// their own sockets and headers (ICMP, TCP, UDP, ICMPv6), the fragment header, "no next header"
// and 255 are refused: the peers' byte counts assume the payload follows the IP header, or
// one header of their own (hop-by-hop, routing, destination options and AH on IPv6).
std::optional<int> raw_protocol_number(const std::string& text) {
    static const std::map<std::string, int> names = {
        {"ipip", 4},  {"gre", 47},   {"esp", 50},        {"ah", 51},
        {"ospf", 89}, {"hopopt", 0}, {"ipv6-route", 43}, {"ipv6-opts", 60}};
    std::optional<int> value;
    if (const auto found = names.find(text); found != names.end()) {
        value = found->second;
    } else {
        value = number<int>(text);
    }
    static const std::set<int> refused = {1, 6, 17, 58, 44, 59, 255};
    if (!value || *value < 0 || *value > 254 || refused.count(*value) != 0) {
        return std::nullopt;
    }
    return value;
}

std::optional<LinkEnd> link_end(const std::string& text) {
    const auto dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
        return std::nullopt;
    }
    return LinkEnd{text.substr(0, dot), text.substr(dot + 1)};
}

struct IdentityWords {
    std::string kind; // "user", "group", "uid"
    std::string name;
    std::optional<gid_t> gid;
    SourceRange range;
};

struct EndpointWords {
    Token node;
    std::optional<std::uint16_t> port;
    std::optional<IpAddress> address;
    std::optional<IdentityWords> identity;
};

struct FlowWords {
    FlowSpec spec;
    EndpointWords client;
    EndpointWords server;
    std::optional<int> family;
    SourceRange range;
};

class Parser {
  public:
    Parser(ParsedScenario& out, std::filesystem::path base)
        : out_(out), diagnostics_(out.diagnostics), base_(std::move(base)) {}

    void run() {
        for (auto& statement : split_statements(out_.source.text(), diagnostics_)) {
            statement_ = &statement;
            words_ = &statement.words;
            next_ = 0;
            parse_statement();
        }
        finish();
        if (!diagnostics_.has_errors()) {
            out_.scenario = std::move(scenario_);
        }
    }

  private:
    // --- token access --------------------------------------------------------------------
    bool at_end() const { return next_ >= words_->size(); }
    const Token& peek() const { return (*words_)[next_]; }
    SourceRange here() const {
        if (!at_end()) {
            return peek().range;
        }
        const auto end = statement_->range.end;
        return {end, end + 1};
    }
    std::optional<Token> take(const char* what) {
        if (at_end()) {
            diagnostics_.error(here(), std::string("expected ") + what);
            return std::nullopt;
        }
        return (*words_)[next_++];
    }
    bool accept(const char* keyword) {
        if (!at_end() && peek().text == keyword) {
            ++next_;
            return true;
        }
        return false;
    }
    template <class Number>
    std::optional<Number> take_number(const char* what) {
        auto token = take(what);
        if (!token) {
            return std::nullopt;
        }
        auto value = number<Number>(token->text);
        if (!value) {
            diagnostics_.error(token->range,
                               std::string("expected ") + what + ", not '" + token->text + "'");
        }
        return value;
    }
    void expect_end() {
        if (!at_end()) {
            diagnostics_.error(peek().range, "unexpected '" + peek().text + "'");
        }
    }
    void no_block() {
        if (statement_->block) {
            diagnostics_.error(statement_->block->range, "this statement takes no block");
        }
    }

    // --- statements ------------------------------------------------------------------------
    void parse_statement() {
        const auto keyword = *take("a statement");
        if (keyword.text != "policy" && keyword.text != "ruleset" && keyword.text != "nft") {
            no_block();
        }
        if (keyword.text == "scenario") {
            if (auto name = take("a scenario name")) {
                scenario_.name = name->text;
            }
            expect_end();
        } else if (keyword.text == "description") {
            if (auto text = take("a quoted description")) {
                scenario_.description = text->text;
            }
            expect_end();
        } else if (keyword.text == "policy") {
            parse_policy(keyword);
        } else if (keyword.text == "ruleset") {
            if (auto table = take("the ruleset's table name (table inet NAME)")) {
                scenario_.ruleset_table = table->text;
                parse_policy(keyword);
            }
        } else if (keyword.text == "group") {
            auto name = take("a group name");
            auto gid = take_number<gid_t>("a numeric gid");
            if (name && gid) {
                scenario_.groups[name->text] = *gid;
            }
            expect_end();
        } else if (keyword.text == "user") {
            auto name = take("a user name");
            auto uid = take_number<uid_t>("a numeric uid");
            std::optional<gid_t> gid = uid ? std::optional<gid_t>(*uid) : std::nullopt;
            if (!at_end()) {
                gid = take_number<gid_t>("a numeric gid");
            }
            if (name && uid && gid) {
                scenario_.users[name->text] = {*uid, *gid};
            }
            expect_end();
        } else if (keyword.text == "cgroup") {
            if (auto name = take("a cgroup name")) {
                const bool valid =
                    !name->text.empty() && name->text.size() <= 64 &&
                    std::all_of(name->text.begin(), name->text.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                    });
                if (!valid) {
                    diagnostics_.error(name->range, "a cgroup name is letters, digits, '_' and "
                                                    "'-', at most 64");
                } else {
                    scenario_.cgroups.insert(name->text);
                }
            }
            expect_end();
        } else if (keyword.text == "node") {
            parse_node();
        } else if (keyword.text == "link") {
            parse_link();
        } else if (keyword.text == "bridge") {
            parse_bridge();
        } else if (keyword.text == "address") {
            parse_address();
        } else if (keyword.text == "route") {
            parse_route();
        } else if (keyword.text == "nft") {
            auto node = take("a node name");
            if (!statement_->block) {
                diagnostics_.error(here(), "expected '{' and the ruleset for this node");
            } else if (node) {
                node_ranges_[node->text].push_back(node->range);
                scenario_.node_rulesets.emplace_back(node->text, statement_->block->text);
            }
            expect_end();
        } else if (keyword.text == "renumber") {
            parse_renumber();
        } else if (keyword.text == "load") {
            if (auto node = take("the node the policy is loaded in")) {
                scenario_.load_node = node->text;
                node_ranges_[node->text].push_back(node->range);
            }
            expect_end();
        } else if (keyword.text == "offloads") {
            if (auto end = take("NODE.INTERFACE")) {
                if (auto parsed = link_end(end->text)) {
                    scenario_.topology.card_offloads.push_back(*parsed);
                } else {
                    diagnostics_.error(end->range,
                                       "expected NODE.INTERFACE, not '" + end->text + "'");
                }
            }
            expect_end();
        } else if (keyword.text == "capture") {
            if (at_end()) {
                diagnostics_.error(here(), "expected NODE.INTERFACE to capture on");
            }
            while (!at_end()) {
                const auto end = *take("NODE.INTERFACE");
                if (auto parsed = link_end(end.text)) {
                    scenario_.captures.push_back(*parsed);
                    capture_ranges_[*parsed] = end.range;
                } else {
                    diagnostics_.error(end.range,
                                       "expected NODE.INTERFACE, not '" + end.text + "'");
                }
            }
        } else if (keyword.text == "udp" || keyword.text == "tcp" || keyword.text == "ping" ||
                   keyword.text == "raw") {
            parse_flow(keyword);
        } else if (keyword.text == "expect") {
            parse_expectation();
        } else if (keyword.text == "skip") {
            parse_skip();
        } else {
            diagnostics_.error(keyword.range,
                               "unknown statement '" + keyword.text +
                                   "' (expected scenario, description, policy, ruleset, group, "
                                   "user, cgroup, node, link, bridge, address, route, nft, load, "
                                   "offloads, capture, "
                                   "udp, tcp, ping, raw, renumber, expect or skip)");
        }
    }

    void parse_policy(const Token& keyword) {
        if (!scenario_.policy_text.empty()) {
            diagnostics_.error(keyword.range, "a scenario has one policy or ruleset");
            return;
        }
        if (statement_->block) {
            scenario_.policy_text = statement_->block->text;
            scenario_.policy_name = out_.source.name() + " (inline policy)";
            // Keeps compiler line numbers aligned with the scenario file.
            const auto line = out_.source.position(statement_->block->range.begin).line;
            scenario_.policy_text = std::string(line - 1, '\n') + scenario_.policy_text;
            expect_end();
            return;
        }
        auto file = take("a file name or '{'");
        if (!file) {
            return;
        }
        const auto path = base_ / file->text;
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            diagnostics_.error(file->range, "cannot read " + path.string());
            return;
        }
        std::ostringstream content;
        content << in.rdbuf();
        scenario_.policy_text = content.str();
        scenario_.policy_name = path.lexically_normal().string();
        expect_end();
    }

    void parse_node() {
        auto name = take("a node name");
        if (!name) {
            return;
        }
        NodeSpec node{name->text, false};
        if (accept("router")) {
            node.forwarding = true;
        }
        expect_end();
        if (declared_nodes_.count(node.name) != 0) {
            diagnostics_.error(name->range, "node " + node.name + " is declared twice");
            return;
        }
        declared_nodes_[node.name] = name->range;
        scenario_.topology.nodes.push_back(node);
    }

    std::optional<LinkEnd> take_link_end(const char* what) {
        auto token = take(what);
        if (!token) {
            return std::nullopt;
        }
        auto end = link_end(token->text);
        if (!end) {
            diagnostics_.error(token->range, "expected NODE.INTERFACE, not '" + token->text + "'");
            return std::nullopt;
        }
        node_ranges_[end->node].push_back(
            {token->range.begin, token->range.begin + end->node.size()});
        if (end->interface.size() > 15) {
            diagnostics_.error(token->range, "interface names have at most 15 characters");
        }
        return end;
    }

    void parse_link() {
        auto a = take_link_end("NODE.INTERFACE (first end)");
        auto b = take_link_end("NODE.INTERFACE (second end)");
        LinkSpec link;
        if (accept("mtu")) {
            if (auto mtu = take_number<unsigned>("an MTU")) {
                link.mtu = *mtu;
            }
        }
        expect_end();
        if (a && b) {
            link.a = *a;
            link.b = *b;
            link_ranges_[*a] = link_ranges_[*b] = statement_->range;
            scenario_.topology.links.push_back(link);
        }
    }

    // bridge NODE.BRIDGE NODE.PORT...: ports are link ends of the bridge's node.
    void parse_bridge() {
        auto device = take_link_end("NODE.BRIDGE (the bridge to create)");
        if (at_end()) {
            diagnostics_.error(here(), "expected the ports: NODE.INTERFACE...");
        }
        BridgeSpec bridge;
        while (!at_end()) {
            const auto range = here();
            auto port = take_link_end("NODE.INTERFACE (a port)");
            if (!port || !device) {
                continue;
            }
            if (port->node != device->node) {
                diagnostics_.error(range,
                                   "a bridge port must be an interface of node " + device->node);
                continue;
            }
            bridge_port_ranges_[*port] = range;
            bridge.ports.push_back(port->interface);
        }
        if (device) {
            bridge.device = *device;
            scenario_.topology.bridges.push_back(bridge);
        }
    }

    void parse_address() {
        auto end = take_link_end("NODE.INTERFACE");
        if (at_end()) {
            diagnostics_.error(here(), "expected one or more addresses with prefix length");
        }
        while (!at_end()) {
            const auto token = *take("an address");
            auto prefix = IpPrefix::parse(token.text);
            if (!prefix || token.text.find('/') == std::string::npos) {
                diagnostics_.error(token.range,
                                   "expected ADDRESS/LENGTH, not '" + token.text + "'");
                continue;
            }
            if (!is_test_address(prefix->address)) {
                diagnostics_.error(token.range, "address " + token.text +
                                                    " is outside the test ranges 198.18.0.0/15 "
                                                    "and 2001:db8::/32");
                continue;
            }
            if (end) {
                address_ranges_[*end] = token.range;
                scenario_.topology.addresses.push_back({*end, *prefix});
            }
        }
    }

    void parse_renumber() {
        auto end = take_link_end("NODE.INTERFACE");
        auto from_token = take("the address it has (ADDRESS/LENGTH)");
        auto to_token = take("the address it gets (ADDRESS/LENGTH)");
        expect_end();
        if (!end || !from_token || !to_token) {
            return;
        }
        auto prefix = [&](const Token& token) -> std::optional<IpPrefix> {
            auto parsed = IpPrefix::parse(token.text);
            if (!parsed || token.text.find('/') == std::string::npos) {
                diagnostics_.error(token.range,
                                   "expected ADDRESS/LENGTH, not '" + token.text + "'");
                return std::nullopt;
            }
            if (!is_test_address(parsed->address)) {
                diagnostics_.error(token.range, "address " + token.text +
                                                    " is outside the test ranges 198.18.0.0/15 "
                                                    "and 2001:db8::/32");
                return std::nullopt;
            }
            return parsed;
        };
        const auto from = prefix(*from_token);
        const auto to = prefix(*to_token);
        if (!from || !to) {
            return;
        }
        // It has the address from an `address` statement or an earlier renumbering.
        bool has =
            std::any_of(scenario_.topology.addresses.begin(), scenario_.topology.addresses.end(),
                        [&](const AddressSpec& a) { return a.at == *end && a.prefix == *from; });
        for (const auto& earlier : scenario_.renumberings) {
            has = has || (earlier.at == *end && earlier.to == *from);
        }
        if (!has) {
            diagnostics_.error(from_token->range, end->node + "." + end->interface +
                                                      " has no address " + from_token->text +
                                                      " to renumber");
        } else if (from->address.is_v4() != to->address.is_v4()) {
            diagnostics_.error(to_token->range, "renumber keeps the family: " + to_token->text +
                                                    " is not of " + from_token->text + "'s");
        } else {
            scenario_.renumberings.push_back({*end, *from, *to, flows_.size(), statement_->range});
        }
    }

    void parse_route() {
        auto node = take("a node name");
        auto destination = take("'default' or a destination prefix");
        if (!accept("via")) {
            diagnostics_.error(here(), "expected 'via GATEWAY'");
            return;
        }
        auto gateway_token = take("a gateway address");
        expect_end();
        if (!node || !destination || !gateway_token) {
            return;
        }
        node_ranges_[node->text].push_back(node->range);
        auto gateway = IpAddress::parse(gateway_token->text);
        if (!gateway || !is_test_address(*gateway)) {
            diagnostics_.error(gateway_token->range,
                               "expected a gateway address in the test ranges");
            return;
        }
        std::optional<IpPrefix> prefix;
        if (destination->text == "default") {
            prefix = IpPrefix{IpAddress{gateway->family, {}}, 0};
        } else {
            prefix = IpPrefix::parse(destination->text);
            if (!prefix || !is_test_prefix(*prefix)) {
                diagnostics_.error(destination->range,
                                   "expected 'default' or a prefix in the test ranges");
                return;
            }
            if (prefix->address.family != gateway->family) {
                diagnostics_.error(gateway_token->range,
                                   "the gateway's family differs from the destination's");
                return;
            }
        }
        scenario_.topology.routes.push_back({node->text, *prefix, *gateway});
    }

    std::optional<IdentityWords> parse_identity() {
        IdentityWords identity;
        identity.range = here();
        auto kind = take("user NAME, group NAME, cgroup NAME or uid N [gid N]");
        if (!kind) {
            return std::nullopt;
        }
        identity.kind = kind->text;
        if (kind->text == "user" || kind->text == "group" || kind->text == "cgroup") {
            if (auto name = take("a name declared with `user`, `group` or `cgroup`")) {
                identity.name = name->text;
                identity.range.end = name->range.end;
            }
        } else if (kind->text == "uid") {
            if (auto uid = take("a numeric uid")) {
                identity.name = uid->text;
                identity.range.end = uid->range.end;
                if (!number<uid_t>(uid->text)) {
                    diagnostics_.error(uid->range, "expected a numeric uid");
                }
            }
            if (accept("gid")) {
                identity.gid = take_number<gid_t>("a numeric gid");
            }
        } else {
            diagnostics_.error(kind->range, "expected user, group, cgroup or uid after 'as'");
            return std::nullopt;
        }
        return identity;
    }

    // NODE [port N] [address A] [as IDENTITY], stopping at the first other word.
    std::optional<EndpointWords> parse_endpoint(const char* role) {
        auto node = take(role);
        if (!node) {
            return std::nullopt;
        }
        EndpointWords endpoint{*node, {}, {}, {}};
        node_ranges_[node->text].push_back(node->range);
        for (;;) {
            if (accept("port")) {
                endpoint.port = take_number<std::uint16_t>("a port number");
            } else if (accept("address")) {
                if (auto token = take("an address")) {
                    endpoint.address = IpAddress::parse(token->text);
                    if (!endpoint.address) {
                        diagnostics_.error(token->range, "expected an address");
                    }
                }
            } else if (accept("as")) {
                endpoint.identity = parse_identity();
            } else {
                return endpoint;
            }
        }
    }

    std::vector<Burst> parse_bursts() {
        std::vector<Burst> bursts;
        while (!at_end()) {
            const auto& token = peek();
            const auto times = token.text.find('x');
            if (times == std::string::npos) {
                break;
            }
            auto count = number<unsigned>(token.text.substr(0, times));
            auto size = number<unsigned>(token.text.substr(times + 1));
            if (!count || !size || *size > 65000) {
                diagnostics_.error(token.range, "expected COUNTxSIZE (size at most 65000), not '" +
                                                    token.text + "'");
            } else {
                bursts.push_back({*count, *size});
            }
            ++next_;
        }
        if (bursts.empty()) {
            diagnostics_.error(here(), "expected one or more COUNTxSIZE bursts");
        }
        return bursts;
    }

    void parse_flow(const Token& keyword) {
        FlowWords flow;
        flow.range = statement_->range;
        flow.spec.protocol = keyword.text == "udp"   ? Protocol::udp
                             : keyword.text == "tcp" ? Protocol::tcp
                             : keyword.text == "raw" ? Protocol::raw
                                                     : Protocol::icmp;
        auto name = take("a flow name");
        if (!name) {
            return;
        }
        flow.spec.name = name->text;
        if (flow.spec.name.find('.') != std::string::npos) {
            diagnostics_.error(name->range, "flow names cannot contain '.'");
        }
        if (flow_ranges_.count(flow.spec.name) != 0) {
            diagnostics_.error(name->range, "flow " + flow.spec.name + " is declared twice");
        }
        flow_ranges_[flow.spec.name] = name->range;
        auto client = parse_endpoint("the client node");
        if (!accept("->")) {
            diagnostics_.error(here(), "expected '->' between client and server");
            return;
        }
        auto server = parse_endpoint("the server node");
        if (!client || !server) {
            return;
        }
        flow.client = *client;
        flow.server = *server;
        while (!at_end()) {
            const auto option = *take("a flow option");
            if (option.text == "send") {
                flow.spec.send = parse_bursts();
            } else if (option.text == "reply" && flow.spec.protocol != Protocol::icmp) {
                flow.spec.reply = parse_bursts();
            } else if (option.text == "rate") {
                if (auto rate = take_number<unsigned>("packets per second")) {
                    flow.spec.rate = *rate;
                }
            } else if (option.text == "wait") {
                auto token = take("a duration in ms");
                std::string text = token ? token->text : "";
                if (text.ends_with("ms")) {
                    text.resize(text.size() - 2);
                }
                auto milliseconds = number<unsigned>(text);
                if (!milliseconds && token) {
                    diagnostics_.error(token->range, "expected a duration like 300ms");
                } else if (milliseconds) {
                    flow.spec.reply_wait = std::chrono::milliseconds(*milliseconds);
                }
            } else if (option.text == "blocked") {
                flow.spec.blocked = true;
            } else if (option.text == "protocol" && flow.spec.protocol == Protocol::raw) {
                if (auto token = take("an IP protocol: a number or gre, esp, ah, ipip, ospf")) {
                    if (auto value = raw_protocol_number(token->text)) {
                        flow.spec.raw_protocol = *value;
                    } else {
                        diagnostics_.error(token->range,
                                           "expected an IP protocol (0-254 other than tcp, udp, "
                                           "icmp, icmpv6, 44, 59; or gre, esp, ah, ipip, ospf, "
                                           "hopopt, ipv6-route, ipv6-opts), not '" +
                                               token->text + "'");
                    }
                }
            } else if (option.text == "family") {
                auto token = take("v4 or v6");
                if (token && (token->text == "v4" || token->text == "v6")) {
                    flow.family = token->text == "v4" ? AF_INET : AF_INET6;
                } else if (token) {
                    diagnostics_.error(token->range, "expected v4 or v6");
                }
            } else {
                diagnostics_.error(option.range,
                                   "unknown flow option '" + option.text + "' (expected send, " +
                                       (flow.spec.protocol == Protocol::icmp ? "" : "reply, ") +
                                       (flow.spec.protocol == Protocol::raw ? "protocol, " : "") +
                                       "rate, wait, family or blocked)");
            }
        }
        if (flow.spec.send.empty()) {
            diagnostics_.error(statement_->range, "flow " + flow.spec.name + " sends nothing");
        }
        if ((flow.spec.protocol == Protocol::udp || flow.spec.protocol == Protocol::tcp) &&
            !flow.server.port) {
            diagnostics_.error(flow.server.node.range, "the server needs a port");
        }
        if (flow.spec.protocol == Protocol::raw) {
            if (flow.spec.raw_protocol < 0) {
                diagnostics_.error(statement_->range, "a raw flow needs 'protocol P'");
            } else if (ipv6_extension_header(flow.spec.raw_protocol) &&
                       (flow.server.address ? flow.server.address->family
                                            : flow.family.value_or(AF_INET)) != AF_INET6) {
                diagnostics_.error(statement_->range,
                                   "protocol " + std::to_string(flow.spec.raw_protocol) +
                                       " is an IPv6 extension header: the flow needs family v6");
            }
            for (const auto* endpoint : {&flow.client, &flow.server}) {
                if (endpoint->port) {
                    diagnostics_.error(endpoint->node.range, "raw datagrams have no ports");
                }
            }
        }
        flows_.push_back(flow);
    }

    void parse_expectation() {
        Expectation expectation;
        expectation.range = statement_->range;
        auto counter = take("a counter name");
        if (!accept("=")) {
            diagnostics_.error(here(), "expected '='");
            return;
        }
        if (!counter) {
            return;
        }
        expectation.counter = counter->text;
        if (counters_.count(counter->text) != 0) {
            diagnostics_.error(counter->range,
                               "counter " + counter->text + " already has an expectation");
        }
        counters_.insert(counter->text);
        do {
            ExpectedTerm term;
            term.range = here();
            auto token = take("a term: 0, FLOW.orig, FLOW.reply[.wire] or packets N bytes N");
            if (!token) {
                return;
            }
            if (token->text == "0") {
                continue;
            }
            if (token->text == "packets") {
                auto packets = take_number<std::uint64_t>("a packet count");
                if (!accept("bytes")) {
                    diagnostics_.error(here(), "expected 'bytes N'");
                    return;
                }
                auto bytes = take_number<std::uint64_t>("a byte count");
                if (packets && bytes) {
                    term.literal = {*packets, *bytes};
                    term.range.end = (*words_)[next_ - 1].range.end;
                    expectation.terms.push_back(term);
                }
                continue;
            }
            std::vector<std::string> parts;
            std::stringstream split(token->text);
            for (std::string part; std::getline(split, part, '.');) {
                parts.push_back(part);
            }
            const bool valid = (parts.size() == 2 || (parts.size() == 3 && parts[2] == "wire")) &&
                               (parts[1] == "orig" || parts[1] == "reply");
            if (!valid) {
                diagnostics_.error(token->range, "expected FLOW.orig or FLOW.reply (optionally "
                                                 "followed by .wire), not '" +
                                                     token->text + "'");
                continue;
            }
            term.flow = parts[0];
            term.reply = parts[1] == "reply";
            term.wire = parts.size() == 3;
            term.range = token->range;
            expectation.terms.push_back(term);
        } while (accept("+"));
        if (accept("merged")) {
            if (auto header = take_number<std::uint64_t>("the header bytes of one segment")) {
                expectation.merged_header = *header;
            }
        }
        expect_end();
        scenario_.expectations.push_back(expectation);
    }

    void parse_skip() {
        FlowSkip skip;
        skip.range = statement_->range;
        static const std::string expected = "a backend (" + runtime::backend_names(", ") + ")";
        if (auto backend = take(expected.c_str())) {
            skip.backend = backend->text;
            if (runtime::backend_named(backend->text) == nullptr) {
                diagnostics_.error(backend->range, "expected " + runtime::backend_names() +
                                                       ", not '" + backend->text + "'");
            }
        }
        while (!at_end() && peek().text != "because") {
            skip_ranges_.emplace_back(peek().text, peek().range);
            skip.flows.push_back(take("a flow name")->text);
        }
        if (skip.flows.empty()) {
            diagnostics_.error(here(), "expected the flows this backend does not run");
        }
        if (!accept("because")) {
            diagnostics_.error(here(), "expected 'because \"REASON\"'");
            return;
        }
        if (auto reason = take("a quoted reason")) {
            skip.reason = reason->text;
        }
        expect_end();
        scenario_.skips.push_back(skip);
    }

    // --- whole-file checks and resolution --------------------------------------------------
    Identity resolve_identity(const std::optional<IdentityWords>& words) {
        if (!words) {
            return {};
        }
        if (words->kind == "user") {
            const auto found = scenario_.users.find(words->name);
            if (found == scenario_.users.end()) {
                diagnostics_.error(words->range, "unknown user " + words->name +
                                                     " (declare it: user NAME UID [GID])");
                return {};
            }
            return {found->second.first, found->second.second, {}, {}};
        }
        if (words->kind == "cgroup") {
            if (scenario_.cgroups.count(words->name) == 0) {
                diagnostics_.error(words->range,
                                   "unknown cgroup " + words->name + " (declare it: cgroup NAME)");
            }
            Identity identity;
            identity.cgroup = words->name;
            return identity;
        }
        if (words->kind == "group") {
            const auto found = scenario_.groups.find(words->name);
            if (found == scenario_.groups.end()) {
                diagnostics_.error(words->range, "unknown group " + words->name +
                                                     " (declare it: group NAME GID)");
                return {};
            }
            return {nobody, found->second, {}, {}};
        }
        const auto uid = number<uid_t>(words->name).value_or(0);
        return {uid, words->gid.value_or(uid), {}, {}};
    }

    std::optional<IpAddress> address_of(const std::string& node, int family) {
        for (const auto& address : scenario_.topology.addresses) {
            if (address.at.node == node && address.prefix.address.family == family) {
                return address.prefix.address;
            }
        }
        return std::nullopt;
    }

    void finish() {
        const SourceRange start{0, 1};
        if (scenario_.name.empty()) {
            diagnostics_.error(start, "missing 'scenario NAME'");
        }
        if (scenario_.policy_text.empty()) {
            diagnostics_.error(start, "missing 'policy FILE', 'policy {' or 'ruleset TABLE ...'");
        }
        if (scenario_.load_node.empty()) {
            diagnostics_.error(start, "missing 'load NODE' (where the policy is loaded)");
        }
        if (scenario_.captures.empty()) {
            diagnostics_.error(start, "missing 'capture NODE.INTERFACE'");
        }
        for (const auto& [node, ranges] : node_ranges_) {
            if (declared_nodes_.count(node) == 0) {
                for (const auto& range : ranges) {
                    diagnostics_.error(range, "unknown node " + node + " (declare it: node NAME)");
                }
            }
        }
        std::set<LinkEnd> ends;
        for (const auto& link : scenario_.topology.links) {
            for (const auto* end : {&link.a, &link.b}) {
                if (!ends.insert(*end).second) {
                    diagnostics_.error(link_ranges_[*end], "interface " + end->node + "." +
                                                               end->interface + " is used twice");
                }
            }
        }
        for (const auto& [end, range] : address_ranges_) {
            if (ends.count(end) == 0) {
                diagnostics_.error(range, "no link has the end " + end.node + "." + end.interface);
            }
        }
        for (const auto& [end, range] : bridge_port_ranges_) {
            if (ends.count(end) == 0) {
                diagnostics_.error(range, "no link has the end " + end.node + "." + end.interface);
            }
            if (address_ranges_.count(end) != 0) {
                diagnostics_.error(address_ranges_[end],
                                   end.node + "." + end.interface +
                                       " is a bridge port: addresses go on the far ends");
            }
        }
        for (const auto& [end, range] : capture_ranges_) {
            if (ends.count(end) == 0) {
                diagnostics_.error(range, "no link has the end " + end.node + "." + end.interface);
            }
        }
        for (auto& flow : flows_) {
            flow.spec.client_node = flow.client.node.text;
            flow.spec.server_node = flow.server.node.text;
            flow.spec.client_identity = resolve_identity(flow.client.identity);
            flow.spec.server_identity = resolve_identity(flow.server.identity);
            flow.spec.client_port = flow.client.port.value_or(0);
            flow.spec.client_address = flow.client.address;
            flow.spec.server_port = flow.server.port.value_or(0);
            int family = flow.family.value_or(AF_INET);
            if (flow.server.address) {
                family = flow.server.address->family;
                flow.spec.server_address = *flow.server.address;
            } else if (auto address = address_of(flow.server.node.text, family)) {
                flow.spec.server_address = *address;
            } else if (declared_nodes_.count(flow.server.node.text) != 0) {
                diagnostics_.error(flow.server.node.range,
                                   "node " + flow.server.node.text + " has no " +
                                       (family == AF_INET ? "IPv4" : "IPv6") + " address");
            }
            scenario_.flows.push_back(flow.spec);
        }
        for (const auto& [flow, range] : skip_ranges_) {
            if (flow_ranges_.count(flow) == 0) {
                diagnostics_.error(range, "unknown flow " + flow);
            }
        }
        for (const auto& expectation : scenario_.expectations) {
            for (const auto& term : expectation.terms) {
                if (!term.flow.empty() && flow_ranges_.count(term.flow) == 0) {
                    diagnostics_.error(term.range, "unknown flow " + term.flow);
                }
            }
        }
    }

    static constexpr uid_t nobody = 65534;

    ParsedScenario& out_;
    Diagnostics& diagnostics_;
    std::filesystem::path base_;
    Scenario scenario_;
    const Statement* statement_ = nullptr;
    const std::vector<Token>* words_ = nullptr;
    std::size_t next_ = 0;
    std::map<std::string, SourceRange> declared_nodes_;
    std::map<std::string, std::vector<SourceRange>> node_ranges_;
    std::map<LinkEnd, SourceRange> link_ranges_;
    std::map<LinkEnd, SourceRange> address_ranges_;
    std::map<std::string, SourceRange> flow_ranges_;
    std::set<std::string> counters_;
    std::map<LinkEnd, SourceRange> capture_ranges_;
    std::map<LinkEnd, SourceRange> bridge_port_ranges_;
    std::vector<std::pair<std::string, SourceRange>> skip_ranges_;
    std::vector<FlowWords> flows_;
};

} // namespace

ParsedScenario parse_scenario(const std::string& display_name, const std::string& text,
                              const std::filesystem::path& base_directory) {
    ParsedScenario parsed{SourceFile(display_name, text), {}, std::nullopt};
    Parser(parsed, base_directory).run();
    return parsed;
}

ParsedScenario parse_scenario_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        ParsedScenario failed{SourceFile(path.string(), ""), {}, std::nullopt};
        failed.diagnostics.error({0, 0}, "cannot read " + path.string());
        return failed;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_scenario(path.string(), text.str(), path.parent_path());
}

} // namespace acctc::testbench
