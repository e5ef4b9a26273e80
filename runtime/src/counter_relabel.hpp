// Kept counters whose family or labels change on a reload. nft re-adds a kept counter in place
// and leaves its comment as it was, so a table written before the labels existed (or one whose
// splits now name a counter differently) would keep reporting the old identity. Such counters
// are deleted and re-created in the reload's commit, carrying the values they held just before
// it. Only the identity counts: an origin that moved (the policy file was edited) is not worth
// re-creating a counter for.
#pragma once

#include "acctc/compile.hpp"
#include "nft_counter_dump.hpp"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace acctc::runtime {

// A named counter as the definition declares it (emit_nft: "\tcounter NAME {" then
// "\t\tcomment \"...\"").
struct DeclaredCounter {
    std::string name;
    std::string comment;
};

// Every counter `definition` declares, in its order. Read line by line from each declaration:
// a search of the rest of the text for every counter would be quadratic in the counters.
std::vector<DeclaredCounter> declared_counters(const std::string& definition);

struct Relabel {
    std::string name;
    std::string comment; // the new one, as compiled
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};

// The counters of `live` that `definition` (as emit_nft writes it: "\tcounter NAME {" then
// "\t\tcomment \"...\"") declares again under another family, kind or labels.
std::vector<Relabel> counters_to_relabel(const std::vector<KernelCounter>& live,
                                         const std::string& definition);

// `commit` (as emit_nft writes it: "\tcounter NAME {", then its comment line) with each counter
// of `values` that it declares starting with those packets and bytes; `declared` gets their
// names.
struct CounterValues {
    std::uint64_t packets = 0;
    std::uint64_t bytes = 0;
};
std::string with_values(const std::string& commit,
                        const std::map<std::string, CounterValues>& values,
                        std::set<std::string>& declared);

// The reload commit with each relabelled counter deleted after the table's rules are flushed
// and declared again with its values. commit holds the definition as emit_nft writes it.
std::string with_relabels(std::string commit, const std::string& table,
                          const std::vector<Relabel>& relabels);

} // namespace acctc::runtime
