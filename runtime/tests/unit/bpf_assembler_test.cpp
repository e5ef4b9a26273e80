// The hand assembler of BPF programs (acctc/runtime/bpf.hpp): jumps land on their labels,
// instructions are encoded as the kernel reads them. No kernel needed.
#include "acctc/runtime/bpf.hpp"

#include <gtest/gtest.h>
#include <stdexcept>

namespace acctc::runtime::bpf {
namespace {

TEST(BpfAssembler, JumpsLandOnTheirLabelsForwardAndBackward) {
    Assembler program;
    program.label("top");                         // 0
    program.jump(jump_imm(BPF_JEQ, 1, 7), "out"); // 1 -> 4
    program.emit(mov_imm(0, 1));                  // 2
    program.jump(jump_always(), "top");           // 3 -> 0
    program.label("out");
    program.emit(exit_program()); // 4
    const auto insns = program.finish();
    ASSERT_EQ(insns.size(), 4U);
    EXPECT_EQ(insns[0].off, 2); // from 1 to 4: the next instruction plus 2
    EXPECT_EQ(insns[0].imm, 7);
    EXPECT_EQ(insns[0].code, BPF_JMP | BPF_JEQ | BPF_K);
    EXPECT_EQ(insns[2].off, -3); // from 3 back to 0
    EXPECT_EQ(insns[3].code, BPF_JMP | BPF_EXIT);
}

TEST(BpfAssembler, AMissingOrRepeatedLabelIsAnError) {
    Assembler missing;
    missing.jump(jump_always(), "nowhere");
    EXPECT_THROW(missing.finish(), std::logic_error);
    Assembler twice;
    twice.label("here");
    EXPECT_THROW(twice.label("here"), std::logic_error);
}

TEST(BpfAssembler, MapLoadIsTheTwoInstructionImmediateWithTheMapsDescriptor) {
    Assembler program;
    program.load_map(1, 42);
    const auto insns = program.finish();
    ASSERT_EQ(insns.size(), 2U);
    EXPECT_EQ(insns[0].code, BPF_LD | BPF_DW | BPF_IMM);
    EXPECT_EQ(insns[0].dst_reg, 1);
    EXPECT_EQ(insns[0].src_reg, BPF_PSEUDO_MAP_FD);
    EXPECT_EQ(insns[0].imm, 42);
    EXPECT_EQ(insns[1].code, 0);
}

TEST(BpfAssembler, EncodingsOfLoadsStoresAndAtomics) {
    const auto ld = load(BPF_H, 7, 2, 16);
    EXPECT_EQ(ld.code, BPF_LDX | BPF_MEM | BPF_H);
    EXPECT_EQ(ld.dst_reg, 7);
    EXPECT_EQ(ld.src_reg, 2);
    EXPECT_EQ(ld.off, 16);
    const auto st = store(BPF_W, 10, -16, 1);
    EXPECT_EQ(st.code, BPF_STX | BPF_MEM | BPF_W);
    EXPECT_EQ(st.dst_reg, 10);
    EXPECT_EQ(st.src_reg, 1);
    EXPECT_EQ(st.off, -16);
    const auto add = atomic_add64(0, 8, 7);
    EXPECT_EQ(add.code, BPF_STX | BPF_ATOMIC | BPF_DW);
    EXPECT_EQ(add.imm, BPF_ADD);
    const auto swap = be16_to_host(7);
    EXPECT_EQ(swap.code, BPF_ALU | BPF_END | BPF_TO_BE);
    EXPECT_EQ(swap.imm, 16);
}

} // namespace
} // namespace acctc::runtime::bpf
