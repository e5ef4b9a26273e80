// A measurement, not part of acctc (docs/counting.md, "Segmentation offload and GRO in
// detail"): a tc program counting the IPv4 TCP packets of an Ethernet device as its hook sees
// them (packets, L3 bytes) and as the wire carries them: a GSO or GRO packet stands for
// gso_segs segments, each with its own IP and TCP header. Slots 0-3 of the pinned array MAP:
// hook packets, hook bytes, wire packets, wire bytes. Built by measure_gso_segs.sh.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef MAP
#define MAP gso_segs
#endif

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} MAP SEC(".maps");

static __always_inline void add(__u32 key, __u64 value) {
    __u64 *slot = bpf_map_lookup_elem(&MAP, &key);
    if (slot)
        __sync_fetch_and_add(slot, value);
}

SEC("tc")
int count(struct __sk_buff *skb) {
    void *data = (void *)(long)skb->data;
    void *end = (void *)(long)skb->data_end;
    struct ethhdr *eth = data;
    if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
        return TC_ACT_OK;
    struct iphdr *ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP)
        return TC_ACT_OK;
    __u32 ihl = ip->ihl * 4;
    struct tcphdr *tcp = (void *)ip + ihl;
    if ((void *)(tcp + 1) > end)
        return TC_ACT_OK;
    __u32 headers = ihl + tcp->doff * 4;
    __u32 l3 = skb->len - sizeof(struct ethhdr);
    __u32 segs = skb->gso_segs ? skb->gso_segs : 1;
    add(0, 1);
    add(1, l3);
    add(2, segs);
    add(3, l3 + (__u64)(segs - 1) * headers);
    return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
