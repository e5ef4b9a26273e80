// Names and declarations: policy, interface and network aliases, connmark mask; counter and
// classify names, and the kernel counter names they produce.
#include "checker.hpp"
#include "well_known.hpp"

namespace acctc {

namespace {

bool is_identifier(std::string_view text) {
    if (text.empty() || !(std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_')) {
        return false;
    }
    for (char c : text) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
            return false;
        }
    }
    return true;
}

} // namespace

bool Checker::check_name(const ast::Token& name, const char* what, std::size_t limit) {
    if (name.text.size() > limit) {
        diag_.error(name.range, std::string(what) + " name is " + std::to_string(name.text.size()) +
                                    " characters long; at most " + std::to_string(limit) +
                                    " are allowed");
        return false;
    }
    if (!is_identifier(name.text)) {
        diag_.error(name.range, std::string(what) + " name '" + name.text +
                                    "' may hold only letters, digits and '_'");
        return false;
    }
    return true;
}

void Checker::produce(const std::string& name, SourceRange range) {
    if (name.size() > max_counter_name_length) {
        diag_.error(range, "counter name '" + name.substr(0, 40) + "...' is " +
                               std::to_string(name.size()) + " characters long; at most " +
                               std::to_string(max_counter_name_length) + " are allowed");
        return;
    }
    if (is_nft_keyword(name)) {
        diag_.error(range, "counter name '" + name +
                               "' is an nft keyword and cannot name a "
                               "counter object; rename it (e.g. " +
                               name + "_traffic)");
        return;
    }
    if (const SourceRange* first = produced_.insert(name, range)) {
        auto& error = diag_.error(range, "counter name '" + name + "' is produced twice");
        error.notes.push_back({*first, "'" + name + "' is first produced here"});
    }
}

bool Checker::declare_statement_name(const ast::Token& name) {
    auto [it, inserted] = statement_names_.emplace(name.text, name.range);
    if (!inserted) {
        auto& error =
            diag_.error(name.range, "duplicate counter or classify name '" + name.text + "'");
        error.notes.push_back({it->second, "first declared here"});
    }
    return inserted;
}

void Checker::declare_policy(const ast::PolicyDecl& decl) {
    if (!out_.name.empty()) {
        diag_.error(decl.range, "a file declares one policy; this is the second");
        return;
    }
    if (check_name(decl.name, "policy")) {
        out_.name = decl.name.text;
        out_.table = "acctc_" + decl.name.text;
    } else {
        out_.name = "invalid";
    }
}

void Checker::declare_alias(const ast::AliasDecl& decl) {
    // A bad name is reported once, here; declared anyway, its uses do not add "unknown
    // interface 'w-x'; define it first: interface w-x = ..." for what the file does define.
    check_name(decl.name, decl.kind == ast::AliasDecl::Kind::interface ? "interface" : "network");
    auto [it, inserted] = alias_sites_.emplace(decl.name.text, decl.name.range);
    if (!inserted) {
        auto& error = diag_.error(decl.name.range, "'" + decl.name.text + "' is already defined");
        error.notes.push_back({it->second, "first defined here"});
        return;
    }
    if (decl.kind == ast::AliasDecl::Kind::interface) {
        std::vector<std::string> devices;
        for (const Item& item : decl.values) {
            if (auto name = device(item)) {
                devices.push_back(*name);
            }
        }
        interfaces_.emplace(decl.name.text, std::move(devices));
        return;
    }
    AddressList network;
    for (const Item& item : decl.values) {
        if (item.kind == Item::Kind::address) {
            address_literal(item, network);
        } else if (auto found = networks_.find(item.text); found != networks_.end()) {
            network.add(found->second);
        } else {
            diag_.error(item.range, "unknown network '" + item.text +
                                        "' (networks must be defined before they are used)");
        }
    }
    networks_.emplace(decl.name.text, std::move(network).merged());
}

void Checker::declare_connmark(const ast::ConnmarkDecl& decl) {
    if (auto mask = number(decl.mask, 0xffffffff, "connmark mask")) {
        if (*mask == 0) {
            diag_.error(decl.mask.range, "connmark mask must leave acctc at least one bit");
            return;
        }
        out_.connmark_mask = static_cast<std::uint32_t>(*mask);
    }
}

} // namespace acctc
