#include "test_policies.hpp"

#include "kernel_fixture.hpp"

namespace acctc::runtime::testing {

CompiledPolicy policy_a() {
    return make_policy("t", R"(table inet acctc_t {
	counter total { comment "t.acct:2" }
	counter only_a { comment "t.acct:3" }
	chain output {
		type filter hook output priority filter - 10; policy accept;
		ip daddr 198.18.0.1 udp dport 9 counter name "total" comment "t.acct:5"
		ip daddr 198.18.0.1 udp dport 9 counter name "only_a" comment "t.acct:6"
	}
}
)",
                       {"total", "only_a"});
}

CompiledPolicy policy_b() {
    return make_policy("t", R"(table inet acctc_t {
	counter total { comment "t.acct:10" }
	counter only_b { comment "t.acct:11" }
	set ports { type inet_service; elements = { 9 } }
	map by_port { type inet_service : counter; elements = { 9 : only_b } }
	chain output {
		type filter hook output priority filter - 10; policy accept;
		ip daddr 198.18.0.1 jump classify comment "t.acct:13"
	}
	chain classify {
		udp dport @ports counter name "total" comment "t.acct:16"
		counter name udp dport map @by_port comment "t.acct:17"
	}
}
)",
                       {"total", "only_b"});
}

CompiledPolicy policy_other() {
    return make_policy("other", R"(table inet acctc_other {
	counter seen { comment "other.acct:2" }
	chain input {
		type filter hook input priority filter; policy accept;
		ip daddr 198.18.0.1 udp dport 9 counter name "seen" comment "other.acct:4"
	}
}
)",
                       {"seen"});
}

} // namespace acctc::runtime::testing
