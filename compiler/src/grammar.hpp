// The policy grammar: named PEGTL rules only. Actions live in parse_actions.hpp, error messages
// in parse_errors.hpp. One statement is parsed at a time (see parser.cpp), so the grammar has no
// recursion and no nesting deeper than one brace level.
#pragma once

#include <tao/pegtl.hpp>

namespace acctc::grammar {

namespace pegtl = tao::pegtl;
using namespace pegtl; // NOLINT: rule definitions read better without the prefix

// --- lexical -------------------------------------------------------------------------------

struct comment : seq<one<'#'>, star<not_one<'\n'>>> {};
struct blank : one<' ', '\t', '\r'> {};
struct sp : star<sor<blank, comment>> {};              // within a line
struct spnl : star<sor<blank, comment, one<'\n'>>> {}; // across lines
struct ident_first : sor<alpha, one<'_'>> {};
struct ident_other : sor<alnum, one<'_', '-'>> {};
template <typename Key>
struct kw : seq<Key, not_at<ident_other>> {};

struct kw_policy : kw<TAO_PEGTL_STRING("policy")> {};
struct kw_interface : kw<TAO_PEGTL_STRING("interface")> {};
struct kw_network : kw<TAO_PEGTL_STRING("network")> {};
struct kw_connmark : kw<TAO_PEGTL_STRING("connmark")> {};
struct kw_mask : kw<TAO_PEGTL_STRING("mask")> {};
struct kw_counter : kw<TAO_PEGTL_STRING("counter")> {};
struct kw_classify : kw<TAO_PEGTL_STRING("classify")> {};
struct kw_otherwise : kw<TAO_PEGTL_STRING("otherwise")> {};
struct kw_accept : kw<TAO_PEGTL_STRING("accept")> {};
struct kw_drop : kw<TAO_PEGTL_STRING("drop")> {};

// Clause keywords.
struct kw_local : kw<TAO_PEGTL_STRING("local")> {};
struct kw_forward : kw<TAO_PEGTL_STRING("forward")> {};
struct kw_passive : kw<TAO_PEGTL_STRING("passive")> {};
struct kw_in : kw<TAO_PEGTL_STRING("in")> {};
struct kw_out : kw<TAO_PEGTL_STRING("out")> {};
struct kw_via : kw<TAO_PEGTL_STRING("via")> {};
struct kw_include : kw<TAO_PEGTL_STRING("include")> {};
struct kw_loopback : kw<TAO_PEGTL_STRING("loopback")> {};
struct kw_owner : kw<TAO_PEGTL_STRING("owner")> {};
struct kw_user : kw<TAO_PEGTL_STRING("user")> {};
struct kw_group : kw<TAO_PEGTL_STRING("group")> {};
struct kw_cgroup : kw<TAO_PEGTL_STRING("cgroup")> {};
struct kw_protocol : kw<TAO_PEGTL_STRING("protocol")> {};
struct kw_sport : kw<TAO_PEGTL_STRING("sport")> {};
struct kw_dport : kw<TAO_PEGTL_STRING("dport")> {};
struct kw_port : kw<TAO_PEGTL_STRING("port")> {};
struct kw_icmp : sor<kw<TAO_PEGTL_STRING("icmpv6")>, kw<TAO_PEGTL_STRING("icmp")>> {};
struct kw_type : kw<TAO_PEGTL_STRING("type")> {};
struct kw_from : kw<TAO_PEGTL_STRING("from")> {};
struct kw_to : kw<TAO_PEGTL_STRING("to")> {};
struct kw_address : kw<TAO_PEGTL_STRING("address")> {};
struct kw_peers : kw<TAO_PEGTL_STRING("peers")> {};
struct kw_of : kw<TAO_PEGTL_STRING("of")> {};
struct kw_timeout : kw<TAO_PEGTL_STRING("timeout")> {};
struct kw_fragment : kw<TAO_PEGTL_STRING("fragment")> {};
struct kw_new : kw<TAO_PEGTL_STRING("new")> {};
struct kw_length : kw<TAO_PEGTL_STRING("length")> {};
struct kw_listen : kw<TAO_PEGTL_STRING("listen")> {};
struct kw_follow : kw<TAO_PEGTL_STRING("follow")> {};
struct kw_connection : kw<TAO_PEGTL_STRING("connection")> {};
struct kw_split : kw<TAO_PEGTL_STRING("split")> {};
struct kw_direction : kw<TAO_PEGTL_STRING("direction")> {};

// Port-carrying protocols that may prefix a port clause: `tcp, udp dport 53`.
struct port_protocol
    : sor<kw<TAO_PEGTL_STRING("tcp")>, kw<TAO_PEGTL_STRING("udplite")>, kw<TAO_PEGTL_STRING("udp")>,
          kw<TAO_PEGTL_STRING("sctp")>, kw<TAO_PEGTL_STRING("dccp")>> {};

// Words that start a clause can never be values (`icmp in` is not the ICMP type "in").
struct clause_keyword
    : sor<kw_local, kw_forward, kw_passive, kw_in, kw_out, kw_via, kw_include, kw_owner,
          kw_protocol, kw_icmp, kw_from, kw_to, kw_address, kw_peers, kw_fragment, kw_new,
          kw_length, kw_listen, kw_follow, kw_split, kw_accept, kw_drop, port_protocol> {};

struct name : seq<ident_first, star<ident_other>> {};
struct word : seq<not_at<clause_keyword>, ident_first, star<ident_other>> {};
// User and group names may also hold dots and end in '$'.
struct account_word
    : seq<not_at<clause_keyword>, ident_first, star<sor<ident_other, one<'.'>>>, opt<one<'$'>>> {};
struct number
    : seq<sor<seq<one<'0'>, one<'x', 'X'>, plus<xdigit>>, plus<digit>>, not_at<ident_other>> {};
struct string_body : star<not_one<'"', '\n'>> {};
struct string_close : one<'"'> {};
struct quoted : seq<one<'"'>, string_body, string_close> {};
struct duration : seq<plus<plus<digit>, one<'s', 'm', 'h', 'd'>>, not_at<ident_other>> {};
// An address literal holds a ':' or '.' early, which sets it apart from an alias name.
struct address_text : seq<at<star<xdigit>, one<':', '.'>>, plus<sor<xdigit, one<':', '.'>>>,
                          opt<one<'/'>, plus<digit>>, not_at<ident_other>> {};
// Interface device names: what Linux allows in practice, plus a trailing '*' wildcard.
struct device_text : plus<sor<alnum, one<'_', '-', '.', '@', '+', '*'>>> {};

// Error messages attach to rules that only ever appear directly under must<> (must_if raises
// on any failing rule that has one), hence the wrappers next_item, type_list, listen_port,
// verdict_clauses and body_close.
template <typename Item>
struct next_item : Item {};
template <typename Item>
struct list_of : seq<Item, star<sp, one<','>, spnl, must<next_item<Item>>>> {};

// --- values --------------------------------------------------------------------------------

// Rules named *_item carry the parse actions; they are built from the lexical rules above so
// that no action fires twice for one token.
struct number_item : number {};
struct string_item : quoted {};
struct duration_item : duration {};
struct device_item : sor<quoted, device_text> {};
struct peers_name : name {};
struct peers_ref : seq<kw_peers, sp, must<kw_of>, sp, must<peers_name>> {};
struct port_value : sor<number, word> {};
struct range_dots : TAO_PEGTL_STRING("..") {};
struct port_upper : port_value {};
struct port_item : seq<port_value, opt<range_dots, opt<port_upper>>> {};
struct length_list : list_of<port_item> { // numbers and ranges; the checker rejects names
    static constexpr const char* expected =
        "a packet length or a range of them in bytes (1500, 0..576, 1400..)";
};
struct id_item : sor<number, account_word, quoted> {};
struct protocol_item : sor<number, word, port_protocol, kw_icmp> {};
struct type_item : sor<number, word> {};
struct addr_item : sor<peers_ref, address_text, word> {};
struct listen_protocol : port_protocol {};
struct listen_port : port_item {};
struct listen_item : seq<listen_protocol, sp, must<listen_port>> {};

// --- clauses -------------------------------------------------------------------------------

struct scope_clause : sor<kw_local, kw_forward, kw_passive> {};
struct direction_clause : sor<kw_in, kw_out> {};
struct via_clause : seq<kw_via, sp, must<list_of<device_item>>> {};
struct include_clause : seq<kw_include, sp, must<kw_loopback>> {};
struct owner_id_kind : sor<kw_user, kw_group> {};
struct owner_ids : seq<owner_id_kind, sp, must<list_of<id_item>>> {};
struct owner_cgroup_kind : kw_cgroup {};
struct owner_cgroup : seq<owner_cgroup_kind, sp, must<string_item>> {};
struct owner_kind : sor<owner_ids, owner_cgroup> {};
struct owner_clause : seq<kw_owner, sp, must<owner_kind>> {};
struct protocol_clause : seq<kw_protocol, sp, must<list_of<protocol_item>>> {};
struct port_protocol_item : port_protocol {};
struct port_direction : sor<kw_sport, kw_dport, kw_port> {};
struct port_list : list_of<port_item> {};
struct ports_clause
    : seq<list_of<port_protocol_item>, opt<sp, port_direction, sp, must<port_list>>> {};
struct type_list : list_of<type_item> {};
struct icmp_types : seq<kw_type, sp, must<type_list>> {};
struct icmp_family : kw_icmp {};
struct icmp_clause : seq<icmp_family, opt<sp, sor<icmp_types, list_of<type_item>>>> {};
struct address_side : sor<kw_from, kw_to, kw_address> {};
struct address_clause : seq<address_side, sp, must<list_of<addr_item>>> {};
struct fragment_clause : kw_fragment {};
struct new_clause : kw_new {};
struct length_clause : seq<kw_length, sp, must<length_list>> {};
struct listen_clause : seq<kw_listen, sp, must<list_of<listen_item>>> {};
struct follow_clause : seq<kw_follow, sp, must<kw_connection>> {};
struct split_protocol_kind : kw_protocol {};
struct split_protocol : seq<split_protocol_kind, sp, must<list_of<protocol_item>>> {};
struct split_direction : kw_direction {};
struct split_type : kw_type {};
// `split host SIDE [/N] [within NETWORKS] [size N]`: one counter per address seen
// (docs/language.md).
struct kw_host : kw<TAO_PEGTL_STRING("host")> {};
struct host_side_item : sor<kw<TAO_PEGTL_STRING("source")>, kw<TAO_PEGTL_STRING("destination")>,
                            kw_local, kw<TAO_PEGTL_STRING("remote")>> {};
struct host_prefix_item : seq<one<'/'>, number> {};
struct host_within_value : sor<address_text, word> {};
struct host_within : seq<kw<TAO_PEGTL_STRING("within")>, sp, must<list_of<host_within_value>>> {};
struct host_size_number : number {};
struct host_size : seq<kw<TAO_PEGTL_STRING("size")>, sp, must<host_size_number>> {};
struct host_option : sor<host_prefix_item, host_within, host_size> {};
struct split_host_kind : kw_host {};
struct split_host : seq<split_host_kind, sp, must<host_side_item>, star<sp, host_option>> {};
struct split_kind : sor<split_protocol, split_direction, split_type, split_host> {};
struct split_keyword : kw_split {};
struct split_clause : seq<split_keyword, sp, must<split_kind>> {};
struct peers_clause : seq<kw_peers, sp, must<kw_timeout>, sp, must<duration_item>> {};
struct verdict_clause : sor<kw_accept, kw_drop> {};

struct clause
    : sor<scope_clause, direction_clause, via_clause, include_clause, owner_clause, protocol_clause,
          ports_clause, icmp_clause, address_clause, fragment_clause, new_clause, length_clause,
          listen_clause, follow_clause, split_clause, peers_clause, verdict_clause> {};
struct clause_line : seq<clause, star<sp, clause>> {};

// --- statements ----------------------------------------------------------------------------

struct separator : sor<one<';'>, one<'\n'>> {};
struct body_close : one<'}'> {};
struct clause_end : sor<separator, at<one<'}'>>> {};
struct counter_body
    : seq<one<'{'>, spnl, star<clause_line, sp, must<clause_end>, spnl>, must<body_close>> {};

struct statement_name : name {};
struct policy_decl : seq<kw_policy, sp, must<statement_name>> {};
struct equals : one<'='> {};
struct interface_decl : seq<kw_interface, sp, must<statement_name>, sp, must<equals>, sp,
                            must<list_of<device_item>>> {};
struct network_value : sor<address_text, word> {};
struct network_decl : seq<kw_network, sp, must<statement_name>, sp, must<equals>, sp,
                          must<list_of<network_value>>> {};
struct connmark_decl : seq<kw_connmark, sp, must<kw_mask>, sp, must<number_item>> {};
struct counter_decl : seq<kw_counter, sp, must<statement_name>, sp, must<counter_body>> {};

struct branch_colon : one<':'> {};
struct branch_label : name {};
struct otherwise_label : name {};
struct otherwise_branch : seq<kw_otherwise, sp, must<branch_colon>, sp, must<otherwise_label>> {};
struct label_branch : seq<branch_label, sp, must<branch_colon>, sp, opt<clause_line>> {};
struct branch : sor<otherwise_branch, label_branch> {};
struct branch_end : sor<separator, at<one<'}'>>> {};
struct classify_body
    : seq<one<'{'>, spnl, star<branch, sp, must<branch_end>, spnl>, must<body_close>> {};
struct classify_header : opt<clause_line> {};
struct classify_decl
    : seq<kw_classify, sp, must<statement_name>, sp, classify_header, sp, must<classify_body>> {};

struct verdict_action : sor<kw_accept, kw_drop> {};
struct verdict_clauses : clause_line {};
struct verdict_decl : seq<verdict_action, sp, must<verdict_clauses>> {};

struct statement_body : sor<policy_decl, interface_decl, network_decl, connmark_decl, counter_decl,
                            classify_decl, verdict_decl> {};
struct statement_end : seq<sp, opt<one<';'>>, spnl, eof> {};
// One top-level statement (the parser splits the file into statements first).
struct statement : seq<spnl, sor<eof, seq<must<statement_body>, must<statement_end>>>> {};

// Every keyword; never parsed, only read for "did you mean" hints (parse_errors.hpp).
struct any_keyword
    : sor<kw_policy, kw_interface, kw_network, kw_connmark, kw_mask, kw_counter, kw_classify,
          kw_otherwise, clause_keyword, kw_loopback, kw_user, kw_group, kw_cgroup, kw_sport,
          kw_dport, kw_port, kw_type, kw_of, kw_timeout, kw_connection, kw_direction> {};

} // namespace acctc::grammar
